import type { RateLimit } from '../limits/rate-limit.repository';
import type { NewMessage, SendOutcome } from './send-outcome';

export interface SendBatching {
  /** Batch statements running at once; sends that arrive meanwhile wait for one to end, and go together. 0: every send alone, at once. */
  concurrency: number;
  /** The most sends in one statement. */
  maxSize: number;
  /** The longest a send waits for a free slot: past it, the waiting sends go as one more statement anyway. */
  maxWaitMs: number;
}

export const DEFAULT_SEND_BATCHING: SendBatching = { concurrency: 1, maxSize: 64, maxWaitMs: 20 };

/** Sends stored together so far: statements of two or more sends that committed, the sends in them, and the statements that rolled back and went again send by send. */
export interface SendBatchCounts {
  batches: number;
  batchedSends: number;
  retriedAlone: number;
}

/**
 * SQLSTATEs that say the statement rolled back and was not at fault itself: a
 * concurrent first use of a clientId (unique violation), a deadlock, a
 * serialization failure. Any other error (a lost connection above all: the
 * commit may have happened) is each send's answer, as it is for a send alone.
 */
const ROLLED_BACK = new Set(['23505', '40P01', '40001']);

interface Waiting {
  input: NewMessage;
  limit: RateLimit;
  resolve: (outcome: SendOutcome) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for plain sends. Each send is a statement and a commit (a WAL
 * flush), and most of a send's cost is the statement's fixed part (starting
 * its plan, the round trip, the commit), not its row. So when sends arrive
 * faster than they finish, the ones waiting go together, as one statement
 * (send-batch.queries.ts): `concurrency` statements run at once (one more for
 * sends that waited `maxWaitMs`), and what arrives meanwhile is spread over
 * the next free ones.
 *
 * A send that finds a slot free goes at once (on the next turn of the event
 * loop, with whatever arrived in the same turn): alone it is the one-send
 * statement, so a quiet server adds no wait. Each send is acknowledged only
 * once its statement has committed. A statement of several sends that rolled
 * back for another writer's sake (a concurrent first use of a clientId, a
 * deadlock: ROLLED_BACK) stored nothing: each of its sends is then sent again
 * alone, one after another within the same slot, and gets its own answer. Any
 * other failure is every send's answer (a connection lost at commit may have
 * stored them: sent again, they would be stored twice). A room has one
 * statement running at a time: its next sends wait for it (they would wait on
 * the room's lock anyway), so a room's sends keep their order, and a late
 * statement never takes sends of a room that is stuck. A statement holds one
 * send per sender and room (their rate-limit row once per statement).
 */
export class SendBatcher {
  readonly counts: SendBatchCounts = { batches: 0, batchedSends: 0, retriedAlone: 0 };
  /**
   * The waiting sends by sender and room, each in order of arrival, the pairs in order of their first waiting
   * send: a statement takes the head of each pair, so building one costs the pairs waiting, not the sends (one
   * user's thousands of parallel sends into a room are one entry, taken one per statement).
   */
  private readonly waiting = new Map<string, { sends: Waiting[]; head: number }>();
  private waitingCount = 0;
  private running = 0;
  /** Rooms with a send in a running statement: their next sends wait for it (they would wait on the room's lock). */
  private readonly busyRooms = new Set<string>();
  private dispatchQueued = false;
  private overdueTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sendOne: (input: NewMessage, limit: RateLimit) => Promise<SendOutcome>,
    private readonly sendMany: (inputs: readonly NewMessage[], limit: RateLimit) => Promise<SendOutcome[]>,
    private readonly options: SendBatching = DEFAULT_SEND_BATCHING,
  ) {}

  send(input: NewMessage, limit: RateLimit): Promise<SendOutcome> {
    if (this.options.concurrency === 0) return this.sendOne(input, limit);
    return new Promise((resolve, reject) => {
      const key = `${input.senderId} ${input.roomId}`;
      let pair = this.waiting.get(key);
      if (!pair) this.waiting.set(key, (pair = { sends: [], head: 0 }));
      pair.sends.push({ input, limit, resolve, reject });
      this.waitingCount += 1;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.waitingCount === 0) return;
    if (this.running < this.options.concurrency) {
      if (this.dispatchQueued) return;
      this.dispatchQueued = true;
      setImmediate(() => {
        this.dispatchQueued = false;
        this.dispatch(false);
      });
    } else if (this.overdueTimer === null) {
      this.overdueTimer = setTimeout(() => {
        this.overdueTimer = null;
        this.dispatch(true);
      }, this.options.maxWaitMs);
      this.overdueTimer.unref();
    }
  }

  /** Spreads the waiting sends over the free slots (with `overdue`, one statement more than the slots allow). */
  private dispatch(overdue: boolean): void {
    // Re-armed below while sends still wait: a timer of sends gone since must not hurry the ones that came after.
    if (this.overdueTimer !== null) clearTimeout(this.overdueTimer);
    this.overdueTimer = null;
    let free = Math.max(this.options.concurrency - this.running, overdue ? 1 : 0);
    while (free > 0 && this.waitingCount > 0) {
      const batch = this.take(Math.ceil(this.waitingCount / free));
      // Every waiting send's room has a statement running: the next one to end dispatches again.
      if (batch.length === 0) return;
      this.start(batch);
      free -= 1;
    }
    this.schedule();
  }

  /**
   * Up to `size` waiting sends (at most maxSize), the first of each sender and room, in order of arrival, under the
   * first takeable one's limit: none to a room with a statement running (so a room stuck on its lock holds back no
   * other room's sends, and a room's sends keep their order), one per sender and room (their rate-limit row once per
   * statement).
   */
  private take(size: number): Waiting[] {
    const batch: Waiting[] = [];
    const limit = Math.min(size, this.options.maxSize);
    for (const [key, pair] of this.waiting) {
      if (batch.length >= limit) break;
      const w = pair.sends[pair.head];
      const sameLimit = batch.length === 0 || (w.limit.max === batch[0].limit.max && w.limit.windowSeconds === batch[0].limit.windowSeconds);
      if (this.busyRooms.has(w.input.roomId) || !sameLimit) continue;
      batch.push(w);
      this.waitingCount -= 1;
      pair.head += 1;
      if (pair.head === pair.sends.length) this.waiting.delete(key);
    }
    return batch;
  }

  private start(batch: Waiting[]): void {
    this.running += 1;
    const rooms = new Set(batch.map((w) => w.input.roomId));
    for (const room of rooms) this.busyRooms.add(room);
    this.run(batch).finally(() => {
      for (const room of rooms) this.busyRooms.delete(room);
      this.running -= 1;
      this.dispatch(false);
    });
  }

  private async run(batch: Waiting[]): Promise<void> {
    if (batch.length === 1) {
      const [w] = batch;
      await this.sendOne(w.input, w.limit).then(w.resolve, w.reject);
      return;
    }
    let outcomes: SendOutcome[];
    try {
      outcomes = await this.sendMany(
        batch.map((w) => w.input),
        batch[0].limit,
      );
    } catch (error) {
      if (!ROLLED_BACK.has((error as { code?: string } | null)?.code ?? '')) {
        for (const w of batch) w.reject(error);
        return;
      }
      // Nothing of the statement was stored: each send again, alone, one after another in this slot (in arrival order).
      this.counts.retriedAlone += 1;
      for (const w of batch) await this.sendOne(w.input, w.limit).then(w.resolve, w.reject);
      return;
    }
    this.counts.batches += 1;
    this.counts.batchedSends += batch.length;
    batch.forEach((w, i) => w.resolve(outcomes[i]));
  }
}
