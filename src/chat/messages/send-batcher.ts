import type { RateLimit } from '../limits/rate-limit.repository';
import type { NewMessage, SendOutcome } from './send.queries';

export interface SendBatching {
  /** Batch statements running at once; sends that arrive meanwhile wait for one to end, and go together. 0: every send alone, at once. */
  concurrency: number;
  /** The most sends in one statement. */
  maxSize: number;
  /** The longest a send waits for a free slot: past it, the waiting sends go as one more statement anyway. */
  maxWaitMs: number;
}

export const DEFAULT_SEND_BATCHING: SendBatching = { concurrency: 1, maxSize: 64, maxWaitMs: 20 };

/** Sends stored together so far: statements of two or more sends that committed, and the sends in them. */
export interface SendBatchCounts {
  batches: number;
  batchedSends: number;
}

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
 * (send-batch.queries.ts): at most `concurrency` statements run at once, and
 * what arrives meanwhile is spread over the next free ones.
 *
 * A send that finds a slot free goes at once (on the next turn of the event
 * loop, with whatever arrived in the same turn): alone it is today's one-send
 * statement, so a quiet server adds no wait. Each send is acknowledged only
 * once its statement has committed. A statement of several sends that fails
 * (a concurrent first use of a clientId, a deadlock with another writer, a
 * lost connection) stored nothing: each of its sends is then sent again
 * alone, and gets its own answer. A batch never holds two sends of one sender
 * (their rate-limit key and clientId would meet twice in one statement): a
 * second send of a sender waits for the next one, so a sender's sends keep
 * their order.
 */
export class SendBatcher {
  readonly counts: SendBatchCounts = { batches: 0, batchedSends: 0 };
  private readonly waiting: Waiting[] = [];
  private running = 0;
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
      this.waiting.push({ input, limit, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.waiting.length === 0) return;
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
    let free = Math.max(this.options.concurrency - this.running, overdue ? 1 : 0);
    while (free > 0 && this.waiting.length > 0) {
      this.start(this.take(Math.ceil(this.waiting.length / free)));
      free -= 1;
    }
    this.schedule();
  }

  /** The first `size` waiting sends (at most maxSize) of distinct senders under the first one's limit, in order of arrival. */
  private take(size: number): Waiting[] {
    const first = this.waiting[0];
    const batch: Waiting[] = [];
    const senders = new Set<string>();
    const limit = Math.min(size, this.options.maxSize);
    for (let i = 0; i < this.waiting.length && batch.length < limit; ) {
      const w = this.waiting[i];
      if (senders.has(w.input.senderId) || w.limit.max !== first.limit.max || w.limit.windowSeconds !== first.limit.windowSeconds) {
        i++;
        continue;
      }
      senders.add(w.input.senderId);
      batch.push(w);
      this.waiting.splice(i, 1);
    }
    return batch;
  }

  private start(batch: Waiting[]): void {
    this.running += 1;
    const done = () => {
      this.running -= 1;
      this.dispatch(false);
    };
    if (batch.length === 1) {
      const [w] = batch;
      this.sendOne(w.input, w.limit).then(w.resolve, w.reject).finally(done);
      return;
    }
    this.sendMany(
      batch.map((w) => w.input),
      batch[0].limit,
    )
      .then(
        (outcomes) => {
          this.counts.batches += 1;
          this.counts.batchedSends += batch.length;
          batch.forEach((w, i) => w.resolve(outcomes[i]));
        },
        // Nothing of the statement was stored: each send again, alone.
        () => batch.forEach((w) => this.sendOne(w.input, w.limit).then(w.resolve, w.reject)),
      )
      .finally(done);
  }
}
