import { LRUCache } from 'lru-cache';

/** Ends a turn. */
export type Release = () => void;

/** A user's turn to replay: waits as its pace requires after each batch, and ends. */
export interface Turn {
  /** Resolves once `count` more replayed messages fit the user's pace. */
  pace(count: number): Promise<void>;
  release: Release;
}

/** How a stream's `since` replay takes its turn; resolves when the turn starts. */
export type ReplayTurn = () => Promise<Turn>;

/** A user's replay allowance: messages in hand, refilled at the pace, up to the burst. */
interface Allowance {
  tokens: number;
  at: number;
}

/**
 * One replay at a time per user, at a bounded pace: a `since` subscription
 * replays the stored messages after its cursor (as many as the history holds),
 * and a user who opens fifty of them at once gets them replayed one after
 * another, not fifty walks of the history side by side. Turns are given in
 * order of asking. Each user's replays together send at most `perSecond`
 * messages a second past a burst of twice that (a catch-up of a few hundred
 * messages is immediate), so a user replaying a 400,000-message room over and
 * over takes a bounded share of the server instead of whatever the socket
 * drains. The pace is kept per server.
 */
export class ReplayGate {
  private readonly queues = new Map<string, (() => void)[]>();
  private readonly allowances: LRUCache<string, Allowance>;
  private readonly burst: number;

  constructor(private readonly perSecond: number) {
    this.burst = 2 * perSecond;
    this.allowances = new LRUCache({ max: 100_000, ttl: 1000 });
  }

  /** Waits until `userId` replays nothing else; resolves with the turn. */
  turn(userId: string): Promise<Turn> {
    return new Promise((start) => {
      let queue = this.queues.get(userId);
      if (!queue) this.queues.set(userId, (queue = []));
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const waiting = this.queues.get(userId) as (() => void)[];
        waiting.shift();
        if (waiting.length > 0) waiting[0]();
        else this.queues.delete(userId);
      };
      queue.push(() => start({ release, pace: (count) => this.pace(userId, count) }));
      if (queue.length === 1) queue[0]();
    });
  }

  /** Takes `count` messages from the user's allowance, waiting for what it lacks. */
  private pace(userId: string, count: number): Promise<void> {
    const now = performance.now();
    const held = this.allowances.get(userId) ?? { tokens: this.burst, at: now };
    const tokens = Math.min(this.burst, held.tokens + ((now - held.at) / 1000) * this.perSecond) - count;
    // Kept until it would have refilled completely: a user idle that long is as if new.
    this.allowances.set(userId, { tokens, at: now }, { ttl: Math.ceil(((this.burst - tokens) / this.perSecond) * 1000) });
    if (tokens >= 0) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, Math.ceil((-tokens / this.perSecond) * 1000)));
  }

  /** Replays running or waiting for `userId` (tests). */
  waiting(userId: string): number {
    return this.queues.get(userId)?.length ?? 0;
  }
}
