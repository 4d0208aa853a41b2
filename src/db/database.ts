import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { currentStatementTally } from './statement-counter';

/** Something statements run on: the pool, or one transaction's connection. */
export interface Queryable {
  /** Runs one statement and returns its rows (for every kind of statement, RETURNING included). */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: StatementOptions): Promise<T[]>;
}

export interface StatementOptions {
  /**
   * Plan with the values, every time: an unnamed statement. For the few
   * statements whose best plan depends on the values (a search for a common
   * word walks rooms newest first; a rare one reads the word's index entries),
   * where a prepared statement's generic plan would be the wrong one for many.
   */
  planEachTime?: boolean;
}

export interface DatabaseOptions {
  /** Called for each failed statement (logged, never thrown from here). */
  onQueryError?: (error: Error, text: string) => void;
  /** Count statements into the current tally (tests and benchmarks measure statement budgets). @default false */
  countStatements?: boolean;
  /** Prepare each statement text once per connection (named statements). @default true */
  prepare?: boolean;
}

/**
 * The one way repositories reach PostgreSQL: statements on the pool, or a
 * transaction on one connection. A thin layer over pg's pool (the pool TypeORM
 * opened, so there is one pool), because it is on every request's path: no
 * entity metadata, rows as the driver gives them.
 */
export class Database implements Queryable {
  /** Statements sent since start (the benchmark reads it for socket traffic). */
  statements = 0;
  private readonly names = new Map<string, string>();
  /** Sees every statement before it is sent (the benchmark captures them); null: nobody looks. */
  observer: ((text: string, params: readonly unknown[]) => void) | null = null;

  /** How many connections the pool holds at most (pg's default: 10). */
  get poolSize(): number {
    return this.pool.options.max ?? 10;
  }

  constructor(
    /** Read-only outside: /metrics reads its connection counts. */
    readonly pool: Pool,
    private readonly options: DatabaseOptions = {},
  ) {}

  async query<T = Record<string, unknown>>(text: string, params: readonly unknown[] = [], options: StatementOptions = {}): Promise<T[]> {
    for (let attempt = 1; ; attempt++) {
      const sentAt = performance.now();
      try {
        return await this.run<T>(this.pool, text, params, options);
      } catch (error) {
        // A pooled connection whose backend was terminated while it sat idle (a
        // PostgreSQL restart, a failover, pg_terminate_backend) fails the next
        // statement given to it at once, and that statement did not commit (see
        // terminatedBackend): it is sent again. pg drops the dead connection; after
        // a restart every idle one is dead, so up to a pool's worth of them may be
        // met in a row. A statement that ran a while before it was ended was
        // stopped on purpose (an operator ending a runaway query): not sent again.
        const atOnce = performance.now() - sentAt < DEAD_ON_ARRIVAL_MS;
        if (!terminatedBackend(error) || !atOnce || attempt > this.poolSize) throw error;
      }
    }
  }

  /**
   * Runs `work` in one transaction on one connection: committed when it
   * resolves, rolled back when it throws (the error is rethrown).
   */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.transactionOnce(work, 1);
  }

  private async transactionOnce<T>(work: (tx: Queryable) => Promise<T>, attempt: number): Promise<T> {
    const client = await this.pool.connect();
    const tx: Queryable = {
      query: <R>(text: string, params: readonly unknown[] = [], options: StatementOptions = {}) => this.run<R>(client, text, params, options),
    };
    try {
      await tx.query('BEGIN');
    } catch (error) {
      client.release(error as Error);
      // Nothing of `work` ran: a connection found dead is replaced (see query).
      if (terminatedBackend(error) && attempt <= this.poolSize) return this.transactionOnce(work, attempt + 1);
      throw error;
    }
    let broken: Error | undefined;
    try {
      const result = await work(tx);
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      await tx.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      // A connection that could not even roll back is dropped, not handed to the next request.
      client.release(broken);
    }
  }

  /**
   * Every statement text gets a name, so pg prepares it once per connection and
   * PostgreSQL plans it once (our texts are fixed templates: a history page's
   * statement took ~5 ms to plan and ~4 ms to run). BEGIN and friends, and
   * statements planned each time, are sent as they are.
   */
  private nameOf(text: string, options: StatementOptions): string | undefined {
    if (text.length < 16 || options.planEachTime || this.options.prepare === false) return undefined;
    let name = this.names.get(text);
    if (name === undefined) {
      name = `s${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
      this.names.set(text, name);
    }
    return name;
  }

  private async run<T>(on: Pool | PoolClient, text: string, params: readonly unknown[], options: StatementOptions = {}): Promise<T[]> {
    this.statements += 1;
    this.observer?.(text, params);
    const tally = this.options.countStatements ? currentStatementTally() : undefined;
    if (tally) tally.count += 1;
    try {
      const name = this.nameOf(text, options);
      const result = await on.query<T & object>({ name, text, values: params as unknown[] } satisfies QueryConfig);
      if (tally) tally.rows += result.rows.length;
      return result.rows;
    } catch (error) {
      this.options.onQueryError?.(error as Error, text);
      throw error;
    }
  }
}

/** How soon a connection that was already dead answers a statement with 57P01 (its farewell is waiting in the socket). */
const DEAD_ON_ARRIVAL_MS = 100;

/**
 * PostgreSQL's admin_shutdown (57P01): the backend was told to end. It answers
 * a statement with it only when the statement did not commit: an autocommit
 * statement that had committed reported its completion first (with parameters
 * or a name, pg's extended protocol, the commit comes at Sync, after any point
 * where the termination is acted on), and the termination would then reach the
 * backend waiting for the next one, idle. The few statements sent without
 * either (`BEGIN`, a bare `SELECT 1`) change nothing.
 */
function terminatedBackend(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '57P01';
}
