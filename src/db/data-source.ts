import { Client, type Pool } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Database } from './database';
import { migrations } from './migrations';
import { driverTypes } from './timestamps';

export interface DataSourceSettings {
  url: string;
  /** Pool size. @default 20 */
  poolSize?: number;
  /** Called for each failed statement (logged, never thrown from here). */
  onQueryError?: (error: Error, text: string) => void;
  /** Called when an idle pooled connection fails (the database went away); keeps the process alive. */
  onPoolError?: (error: Error) => void;
  /** Count statements per request (tests, benchmarks). @default false */
  countStatements?: boolean;
}

/**
 * Options shared by the server and the TypeORM CLI (ormconfig.ts). TypeORM owns
 * the schema (migrations, never `synchronize`) and the pool; queries go through
 * src/db/database.ts. No entities: each table is declared once, in its domain
 * folder (`*.table.ts`), and test/tables.test.ts holds those declarations to
 * the migrated schema.
 */
export function dataSourceOptions(settings: Pick<DataSourceSettings, 'url' | 'poolSize' | 'onPoolError'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: [],
    migrations,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    logging: false,
    poolSize: settings.poolSize ?? 20,
    // pg's pool emits 'error' when an idle client loses its server; unhandled, that would crash the process.
    poolErrorHandler: (error: Error) => settings.onPoolError?.(error),
    extra: {
      // A statement that never returns must not hold a request (or a row lock) forever.
      statement_timeout: 15_000,
      connectionTimeoutMillis: 5_000,
      application_name: 'chat-api',
      // Timestamps are read as the API prints them (UTC ISO strings): the session speaks UTC.
      options: '-c TimeZone=UTC',
      types: driverTypes,
    },
  } as DataSourceOptions;
}

export interface OpenedDatabase {
  dataSource: DataSource;
  db: Database;
}

/** The advisory lock key that serialises migrations (per database; beside VERSION_LOCK_KEY). */
export const MIGRATION_LOCK_KEY = 736_572_002;

/**
 * Applies pending migrations, one server at a time: TypeORM's runner takes no
 * lock, so servers starting together on an empty database would each apply
 * them (and all but one fail). A session-level advisory lock on a connection
 * of its own, outside the pool (no statement_timeout: waiting for another
 * server's migrations may take longer), makes the others wait; they then find
 * nothing pending. A server that dies while migrating drops the lock with its
 * connection.
 */
async function migrateOnce(dataSource: DataSource, url: string): Promise<void> {
  const lock = new Client({ connectionString: url, application_name: 'chat-api migrations', connectionTimeoutMillis: 5_000 });
  // A lost connection fails the statement in flight; unheard, its 'error' event would end the process.
  lock.on('error', () => {});
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    // Ending the session releases the lock, whether or not the migrations succeeded.
    await lock.end();
  }
}

/** Opens the pool, applies pending migrations, and wraps the pool for the repositories. */
export async function openDatabase(settings: DataSourceSettings): Promise<OpenedDatabase> {
  const dataSource = new DataSource(dataSourceOptions(settings));
  await dataSource.initialize();
  try {
    await migrateOnce(dataSource, settings.url);
  } catch (error) {
    // The pool is not left open behind a server that will not start.
    await dataSource.destroy().catch(() => {});
    throw error;
  }
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  const db = new Database(pool, { onQueryError: settings.onQueryError, countStatements: settings.countStatements });
  return { dataSource, db };
}

/** True when the database answers a trivial statement (the readiness probe). */
export function databaseReachable(db: Database): Promise<boolean> {
  return db.query('SELECT 1').then(
    () => true,
    () => false,
  );
}
