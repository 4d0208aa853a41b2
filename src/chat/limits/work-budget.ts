import { LRUCache } from 'lru-cache';
import { RateLimitedError } from '../errors';
import type { RateLimit } from './rate-limit.repository';

/** Refuses an operation of a user who spent their budget (RATE_LIMITED, with when to retry). */
export function budgetSpent(limit: RateLimit, retryAfter: number): RateLimitedError {
  return new RateLimitedError(
    `Query cost budget spent: at most ${limit.max} per ${limit.windowSeconds} s per user (lists count their size, nested lists multiplied); retry in ${retryAfter}s`,
    retryAfter,
  );
}

/** What a user's work budget answers: go on, or wait this many whole seconds. */
export type Spend = { ok: true } | { ok: false; retryAfter: number };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * How much of the server one user may take per second: a token bucket of
 * query cost (the same cost the per-request limit computes, where a search
 * hit weighs the text its snippet reads and a `readBy` what it resolves) per
 * user, QUERY_COST_RATE_LIMIT (`max/seconds`: at most `max` in any `seconds`,
 * refilled evenly). Every limit on one request, subscription or event bounds
 * what it costs; this bounds how many of them one user may send, so a user
 * looping on the costliest requests the limits allow takes a bounded share of
 * the server instead of whatever its connection drains (issue 17). Kept per
 * server, in memory: it guards this process's event loop, and a read costs no
 * write to the database.
 */
export class WorkBudget {
  private readonly perMs: number;
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(readonly limit: RateLimit) {
    this.perMs = limit.max / (limit.windowSeconds * 1000);
    this.buckets = new LRUCache({ max: 100_000, ttl: limit.windowSeconds * 1000 });
  }

  /** Takes `cost` from the user's budget; the refusal to answer when it does not fit (and nothing is taken). */
  refusal(userId: string, cost: number): RateLimitedError | null {
    const spent = this.spend(userId, cost);
    return spent.ok ? null : budgetSpent(this.limit, spent.retryAfter);
  }

  /** Takes `cost` from the user's budget, or says how long until it fits (and takes nothing). */
  spend(userId: string, cost: number): Spend {
    const now = performance.now();
    const held = this.buckets.get(userId);
    const tokens = held === undefined ? this.limit.max : Math.min(this.limit.max, held.tokens + (now - held.at) * this.perMs);
    // A document over the whole budget is over the per-request limit too (the budget is set above it); never "wait forever".
    const needed = Math.min(cost, this.limit.max);
    if (tokens < needed) {
      this.buckets.set(userId, { tokens, at: now });
      return { ok: false, retryAfter: Math.max(1, Math.ceil((needed - tokens) / this.perMs / 1000)) };
    }
    // Kept until it would have refilled completely: a user idle that long is as if new.
    this.buckets.set(userId, { tokens: tokens - needed, at: now }, { ttl: Math.ceil((this.limit.max - tokens + needed) / this.perMs) });
    return { ok: true };
  }
}
