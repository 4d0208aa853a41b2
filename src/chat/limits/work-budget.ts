import { RateLimitedError } from '../errors';
import type { RateLimit } from './rate-limit.repository';
import { TokenBuckets } from './token-buckets';

/** Refuses an operation of a user who spent their budget (RATE_LIMITED, with when to retry). */
export function budgetSpent(limit: RateLimit, retryAfter: number): RateLimitedError {
  return new RateLimitedError(
    `Query cost budget spent: at most ${limit.max} per ${limit.windowSeconds} s per user (lists count their size, nested lists multiplied); retry in ${retryAfter}s`,
    retryAfter,
  );
}

/** What a user's work budget answers: go on, or wait this many whole seconds. */
export type Spend = { ok: true } | { ok: false; retryAfter: number };

/**
 * How much of the server one user may take per second: a token bucket of
 * query cost (the same cost the per-request limit computes, where a search
 * hit weighs the text its snippet reads and a `readBy` what it resolves) per
 * user, QUERY_COST_RATE_LIMIT (default 600000/3: `max/seconds`: at most `max` in any `seconds`,
 * refilled evenly). Every limit on one request, subscription or event bounds
 * what it costs; this bounds how many of them one user may send, so a user
 * looping on the costliest requests the limits allow takes a bounded share of
 * the server instead of whatever its connection drains (issue 17). Kept per
 * server, in memory: it guards this process's event loop, and a read costs no
 * write to the database.
 */
export class WorkBudget {
  private readonly buckets: TokenBuckets;

  constructor(readonly limit: RateLimit) {
    this.buckets = new TokenBuckets(limit.max, limit.max / limit.windowSeconds);
  }

  /** Takes `cost` from the user's budget; the refusal to answer when it does not fit (and nothing is taken). */
  refusal(userId: string, cost: number): RateLimitedError | null {
    const spent = this.spend(userId, cost);
    return spent.ok ? null : budgetSpent(this.limit, spent.retryAfter);
  }

  /** Takes `cost` from the user's budget, or says how long until it fits (and takes nothing). */
  spend(userId: string, cost: number): Spend {
    // A document over the whole budget is over the per-request limit too (the budget is set above it); never "wait forever".
    const waitMs = this.buckets.tryTake(userId, Math.min(cost, this.limit.max));
    return waitMs === 0 ? { ok: true } : { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) };
  }
}
