/** Ends a turn. */
export type Release = () => void;

/** How a stream's `since` replay takes its turn; resolves with the end of the turn. */
export type ReplayTurn = () => Promise<Release>;

/**
 * One replay at a time per user: a `since` subscription replays the stored
 * messages after its cursor (as many as the history holds), and a user who
 * opens fifty of them at once gets them replayed one after another, not
 * fifty walks of the history side by side. Turns are given in order of asking.
 */
export class ReplayGate {
  private readonly queues = new Map<string, (() => void)[]>();

  /** Waits until `userId` replays nothing else; resolves with the release. */
  turn(userId: string): Promise<Release> {
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
      queue.push(() => start(release));
      if (queue.length === 1) queue[0]();
    });
  }

  /** Replays running or waiting for `userId` (tests). */
  waiting(userId: string): number {
    return this.queues.get(userId)?.length ?? 0;
  }
}
