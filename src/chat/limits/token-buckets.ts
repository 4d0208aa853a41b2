import { LRUCache } from 'lru-cache';

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per key, in memory: `capacity` tokens, refilled evenly at
 * `perSecond`. A key whose bucket would be full again is forgotten (a key idle
 * that long is as if new), so memory follows the keys in use. What the per-user
 * work budget and the replay pace share (src/chat/limits/work-budget.ts,
 * src/realtime/replay-gate.ts).
 */
export class TokenBuckets {
  private readonly perMs: number;
  private readonly buckets: LRUCache<string, Bucket>;

  constructor(
    private readonly capacity: number,
    perSecond: number,
    maxKeys = 100_000,
  ) {
    this.perMs = perSecond / 1000;
    this.buckets = new LRUCache({ max: maxKeys, ttl: Math.ceil(capacity / this.perMs) });
  }

  /** Takes `amount` if the key's bucket holds it (0), else takes nothing and answers the ms until it would. */
  tryTake(key: string, amount: number): number {
    const now = performance.now();
    const tokens = this.tokensAt(key, now);
    if (tokens < amount) {
      this.keep(key, tokens, now);
      return Math.ceil((amount - tokens) / this.perMs);
    }
    this.keep(key, tokens - amount, now);
    return 0;
  }

  /** Takes `amount` whatever the bucket holds, and answers the ms until the debt (if any) is paid back (0: none). */
  take(key: string, amount: number): number {
    const now = performance.now();
    const tokens = this.tokensAt(key, now) - amount;
    this.keep(key, tokens, now);
    return tokens >= 0 ? 0 : Math.ceil(-tokens / this.perMs);
  }

  private tokensAt(key: string, now: number): number {
    const held = this.buckets.get(key);
    return held === undefined ? this.capacity : Math.min(this.capacity, held.tokens + (now - held.at) * this.perMs);
  }

  /** Kept until it would have refilled completely. */
  private keep(key: string, tokens: number, now: number): void {
    this.buckets.set(key, { tokens, at: now }, { ttl: Math.max(1, Math.ceil((this.capacity - tokens) / this.perMs)) });
  }
}
