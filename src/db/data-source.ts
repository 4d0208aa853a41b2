import { Client, type Pool, type PoolConfig } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Database } from './database';
import { ReadReplicas, type ReplicaStatus } from './read-replicas';
import { chatEntities } from '../chat/entities';
import { migrations } from './migrations';
import { SnakeNamingStrategy } from './naming-strategy';
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
  /** Streaming standbys of `url` that pure reads may use (DATABASE_READ_URLS). @default [] */
  readUrls?: string[];
  /** A replica whose data is older than this is not read (DATABASE_READ_MAX_LAG_MS). @default 1000 */
  maxReadLagMs?: number;
  /** Told when a replica starts or stops being read. */
  onReplicaChange?: (status: ReplicaStatus) => void;
  /** Webhooks are configured: every connection turns the outbox triggers on (src/webhooks/). @default false */
  webhooks?: boolean;
}

/** What every connection says at its start, on the primary and on the replicas alike. */
function connectionSettings(webhooks = false): PoolConfig {
  return {
    // A statement that never returns must not hold a request (or a row lock) forever.
    statement_timeout: 15_000,
    connectionTimeoutMillis: 5_000,
    application_name: 'chat-api',
    // Timestamps are read as the API prints them (UTC ISO strings): the session speaks UTC.
    // chat.webhooks: the outbox triggers fire (src/db/migrations/1765600000000-webhooks.ts); off, a write calls no trigger function.
    options: webhooks ? '-c TimeZone=UTC -c chat.webhooks=on' : '-c TimeZone=UTC',
    types: driverTypes,
  };
}

/**
 * Options shared by the server and the TypeORM CLI (ormconfig.ts). The
 * entities (src/chat/entities.ts) are the one declaration of each table; the
 * migrations build the schema (never `synchronize`), and
 * test/schema-drift.test.ts holds the two together with TypeORM's own diff.
 * TypeORM owns the pool; hand-tuned statements run on it through src/db/database.ts.
 */
export function dataSourceOptions(settings: Pick<DataSourceSettings, 'url' | 'poolSize' | 'onPoolError' | 'webhooks'>): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.url,
    entities: chatEntities,
    migrations,
    namingStrategy: new SnakeNamingStrategy(),
    // gen_random_uuid() is built into PostgreSQL 13+: no extension to install, none to compare.
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    logging: false,
    poolSize: settings.poolSize ?? 20,
    // pg's pool emits 'error' when an idle client loses its server; unhandled, that would crash the process.
    poolErrorHandler: (error: Error) => settings.onPoolError?.(error),
    extra: connectionSettings(settings.webhooks),
  } as DataSourceOptions;
}

export interface OpenedDatabase {
  dataSource: DataSource;
  db: Database;
}

/** The advisory lock key that serialises migrations (per database). */
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

/**
 * Opens the pool, applies pending migrations, wraps the pool for the
 * repositories, and with read replicas opens theirs and measures them once
 * (a replica that does not answer yet is left out of use, not an error).
 */
export async function openDatabase(settings: DataSourceSettings): Promise<OpenedDatabase> {
  const db = new Database({ onQueryError: settings.onQueryError, countStatements: settings.countStatements });
  const dataSource = new DataSource({ ...dataSourceOptions(settings), logger: db.typeOrmLogger() });
  await dataSource.initialize();
  let replicas: ReadReplicas | null = null;
  try {
    await migrateOnce(dataSource, settings.url);
    if (settings.readUrls?.length) {
      replicas = new ReadReplicas({
        primaryUrl: settings.url,
        urls: settings.readUrls,
        connection: connectionSettings(),
        poolSize: settings.poolSize ?? 20,
        maxLagMs: settings.maxReadLagMs,
        onChange: settings.onReplicaChange,
      });
      await replicas.start();
    }
  } catch (error) {
    // The pools are not left open behind a server that will not start.
    await replicas?.close();
    await dataSource.destroy().catch(() => {});
    throw error;
  }
  return { dataSource, db: db.attach(dataSource, replicas) };
}

/** True when the database answers a trivial statement (the readiness probe). */
export function databaseReachable(db: Database): Promise<boolean> {
  return db.query('SELECT 1').then(
    () => true,
    () => false,
  );
}
