import { TokenBuckets } from '../chat/limits/token-buckets';

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
  /** Each user's allowance: stored messages in hand, refilled at the pace, up to the burst. */
  private readonly allowances: TokenBuckets;

  constructor(perSecond: number) {
    this.allowances = new TokenBuckets(2 * perSecond, perSecond);
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
    const waitMs = this.allowances.take(userId, count);
    return waitMs === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, waitMs));
  }

  /** Replays running or waiting for `userId` (tests). */
  waiting(userId: string): number {
    return this.queues.get(userId)?.length ?? 0;
  }
}
