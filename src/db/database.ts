import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { type DataSource, type EntityManager, type Logger as TypeOrmLogger, type QueryRunner } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { type ReadReplicas, type Replica, retryOnPrimary } from './read-replicas';
import { currentStatementTally } from './statement-counter';

/** Something hand-tuned statements run on: the pool, or one transaction's connection. */
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
  /**
   * Read on the primary even in a pure read (src/db/read-replicas.ts), and the
   * rest of the request with it: the statement reads what a standby's copy gets
   * wrong, a sequence's value (a standby sees it up to 32 numbers ahead, before
   * the transactions that took them commit). @default false
   */
  primary?: boolean;
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
 * The one way statements reach PostgreSQL, on TypeORM's pool: TypeORM's API
 * (repositories, query builders) for what it does well, and the hand-tuned
 * statements of the hot paths as named statements on the same pool and, inside
 * a transaction, on the same connection (`on(manager)`). It counts every
 * statement of either kind (statement budgets), and sends a statement again
 * when it met a pooled connection PostgreSQL had ended while it sat idle.
 * With read replicas, a hand-tuned statement of a pure read (an HTTP query)
 * outside a transaction goes to the replica `replicas` picks, and to the
 * primary when it fails there for the replica's sake; TypeORM's API always
 * runs on the primary.
 */
export class Database implements Queryable {
  /** Statements sent since start, of either kind (tests and the benchmark read it). */
  statements = 0;
  private readonly names = new Map<string, string>();
  /** Sees every statement before it is sent (the benchmark captures them); null: nobody looks. */
  observer: ((text: string, params: readonly unknown[]) => void) | null = null;
  private source: DataSource | null = null;
  /** The read replicas pure reads may use (DATABASE_READ_URLS); null: every statement on the primary. */
  replicas: ReadReplicas | null = null;

  constructor(private readonly options: DatabaseOptions = {}) {}

  /**
   * Runs on `dataSource` from now on (once it is initialized), and reads on
   * `replicas` when given. The Database exists first: TypeORM takes its logger
   * (typeOrmLogger) when the data source is made.
   */
  attach(dataSource: DataSource, replicas: ReadReplicas | null = null): this {
    if (!(dataSource.driver instanceof PostgresDriver)) throw new Error('The chat API runs on PostgreSQL: the data source must be of type postgres');
    this.source = dataSource;
    this.replicas = replicas;
    return this;
  }

  get dataSource(): DataSource {
    if (!this.source) throw new Error('The database is not attached to a data source yet');
    return this.source;
  }

  /** TypeORM's pool: one pool for its statements and ours (read outside by /metrics for its connection counts). */
  get pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }

  /** How many connections the pool holds at most (pg's default: 10). */
  get poolSize(): number {
    return this.pool.options.max ?? 10;
  }

  async query<T = Record<string, unknown>>(text: string, params: readonly unknown[] = [], options: StatementOptions = {}): Promise<T[]> {
    if (options.primary) this.replicas?.pinPrimary();
    const replica = this.replicas?.replicaFor() ?? null;
    if (replica) {
      try {
        return await this.run<T>(replica.pool, text, params, options, replica);
      } catch (error) {
        // A read is the same on the primary: a replica's fault (gone, a recovery conflict) never fails the request.
        if (!retryOnPrimary(error)) throw error;
        this.replicas?.fellBack(replica, error);
      }
    }
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
   * Statements on the connection of the transaction `manager` belongs to, or
   * on the pool when it belongs to none (a repository's own manager).
   */
  on(manager: EntityManager): Queryable {
    const runner = manager.queryRunner;
    if (!runner?.isTransactionActive) return this;
    return { query: <R>(text: string, params: readonly unknown[] = [], options: StatementOptions = {}) => this.run<R>(connectionOf(runner), text, params, options) };
  }

  /**
   * Runs `work` in one transaction on one connection (TypeORM's query runner):
   * committed when it resolves, rolled back when it throws (the error is
   * rethrown). Repositories bound to `manager` (`manager.withRepository`) and
   * `on(manager)` run on it.
   */
  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.transactionOnce(work, 1);
  }

  private async transactionOnce<T>(work: (manager: EntityManager) => Promise<T>, attempt: number): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
    } catch (error) {
      await runner.release().catch(() => {});
      // Nothing of `work` ran: a connection found dead (see query; TypeORM may have heard of the
      // termination first and dropped the connection) is replaced.
      if ((terminatedBackend(error) || lostConnection(error)) && attempt <= this.poolSize) return this.transactionOnce(work, attempt + 1);
      throw error;
    }
    try {
      const result = await work(runner.manager);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => {});
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** TypeORM's logger: every statement TypeORM sends is counted (and observed) like ours. */
  typeOrmLogger(): TypeOrmLogger {
    return {
      logQuery: (query, parameters) => {
        // TypeORM's API runs on the primary: the rest of a pure read follows it there (never an older state after a newer one).
        this.replicas?.pinPrimary();
        this.count(query, (parameters as unknown[] | undefined) ?? []);
      },
      logQueryError: (error, query) => this.options.onQueryError?.(error instanceof Error ? error : new Error(String(error)), query),
      logQuerySlow: () => {},
      logSchemaBuild: () => {},
      logMigration: () => {},
      log: () => {},
    };
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

  private count(text: string, params: readonly unknown[]): void {
    this.statements += 1;
    this.observer?.(text, params);
    if (this.options.countStatements) {
      const tally = currentStatementTally();
      if (tally) tally.count += 1;
    }
  }

  private async run<T>(on: Pool | PoolClient, text: string, params: readonly unknown[], options: StatementOptions = {}, replica?: Replica): Promise<T[]> {
    this.count(text, params);
    if (replica) replica.statements += 1;
    try {
      const name = this.nameOf(text, options);
      const result = await on.query<T & object>({ name, text, values: params as unknown[] } satisfies QueryConfig);
      if (this.options.countStatements) {
        const tally = currentStatementTally();
        if (tally) tally.rows += result.rows.length;
      }
      return result.rows;
    } catch (error) {
      this.options.onQueryError?.(error as Error, text);
      throw error;
    }
  }
}

/** The pg connection a TypeORM query runner holds (connected by Database.transaction). */
function connectionOf(runner: QueryRunner): PoolClient {
  return (runner as QueryRunner & { databaseConnection: PoolClient }).databaseConnection;
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
export function terminatedBackend(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.code === '57P01' || e?.driverError?.code === '57P01';
}

/**
 * The connection was gone under the statement (pg's words for a socket it saw
 * close, or the socket's reset): only safe to retry for what has no effect, a BEGIN.
 */
function lostConnection(error: unknown): boolean {
  return /Connection terminated unexpectedly|Client has encountered a connection error|connection is closed|ECONNRESET|EPIPE/i.test(String((error as Error)?.message ?? ''));
}
