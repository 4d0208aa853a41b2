import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

/**
 * A streaming standby of the test server on loopback (read replicas): a
 * `pg_basebackup -R -X stream` of the whole cluster into a temp folder,
 * started with `pg_ctl` on a free port as the `postgres` OS user (PostgreSQL
 * refuses to run as root). It replicates every database, the run's included.
 */
export interface Standby {
  port: number;
  /** Its postmaster (the benchmark sums the CPU of it and its children). */
  postmasterPid: number;
  /** `database` on the standby (the URL's path), e.g. the run's test database. */
  url(database: string): string;
  /** Stops applying WAL (it still receives it): the standby falls behind on purpose. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Waits until the standby has replayed everything the primary had written when called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** SIGKILL to the postmaster: no goodbye to its clients (its backends end as they notice). */
  kill(): Promise<void>;
  /** Stops it (if alive) and deletes its folder. */
  stop(): Promise<void>;
}

/** The processes of every standby a run started: killed if the run ends without stopping them. */
const pidsToKill = new Set<number>();
process.once('exit', () => {
  for (const pid of pidsToKill) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

const isRoot = () => process.getuid?.() === 0;

/** The uid and gid of the OS user PostgreSQL runs as when we are root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/**
 * Where pg_basebackup and pg_ctl of the server's own version are: PG_BINDIR, else
 * beside the server's binary (a server on this host: /proc/<its backend>/exe),
 * else Debian's /usr/lib/postgresql/<major>/bin, else the PATH.
 */
async function binDir(admin: Client): Promise<string> {
  if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
  const { rows } = await admin.query<{ major: string; pid: number }>(
    `SELECT (current_setting('server_version_num')::int / 10000)::text AS major, pg_backend_pid() AS pid`,
  );
  const candidates = [`/usr/lib/postgresql/${rows[0].major}/bin`];
  try {
    candidates.unshift(dirname(readlinkSync(`/proc/${rows[0].pid}/exe`)));
  } catch {
    // not on this host, or not Linux
  }
  return candidates.find((dir) => existsSync(join(dir, 'pg_basebackup')) && existsSync(join(dir, 'pg_ctl'))) ?? '';
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (await portIsFree(port)) return port;
  }
  throw new Error('no free loopback port found in 100 tries');
}

function replicationRefused(error: unknown): boolean {
  return (error as { code?: string })?.code === '28000' && /replication/.test(String((error as Error).message));
}

async function tryReplicationConnection(primaryUrl: string): Promise<void> {
  const client = new Client({ connectionString: primaryUrl, replication: 'true' } as ConstructorParameters<typeof Client>[0]);
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('IDENTIFY_SYSTEM');
  } finally {
    await client.end();
  }
}

/**
 * Makes sure the primary lets replication connections in from loopback:
 * `host all all ...` does not cover them. As root, appends
 * `host replication all 127.0.0.1/32 trust` to the server's pg_hba.conf and
 * reloads it (.ci/run does the same before the tests); otherwise says what to add.
 */
export async function allowReplicationConnections(primaryUrl: string): Promise<void> {
  try {
    return await tryReplicationConnection(primaryUrl);
  } catch (error) {
    if (!replicationRefused(error)) throw error;
    if (!isRoot()) {
      throw new Error(`The test server refuses replication connections from 127.0.0.1: add "host replication all 127.0.0.1/32 trust" to its pg_hba.conf and reload (${(error as Error).message})`);
    }
  }
  const admin = new Client({ connectionString: primaryUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ hba_file: string }>('SHOW hba_file');
    appendFileSync(rows[0].hba_file, '\n# Added by the chat API tests (read replicas): streaming standbys on loopback.\nhost replication all 127.0.0.1/32 trust\n');
    await admin.query('SELECT pg_reload_conf()');
  } finally {
    await admin.end();
  }
  // The reload is asynchronous: bounded wait until the postmaster has read the new file.
  for (let tries = 0; ; tries++) {
    try {
      return await tryReplicationConnection(primaryUrl);
    } catch (error) {
      if (!replicationRefused(error) || tries >= 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Settings a hot standby needs at least as high as its primary's (it refuses to start otherwise). */
const AT_LEAST_PRIMARY = ['max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction'];

/** The primary's own settings that must not follow the copy (places, ports, archiving, TLS files). */
const NOT_COPIED =
  /^(data_directory|config_file|hba_file|ident_file|external_pid_file|port|unix_socket_directories|listen_addresses|cluster_name|logging_collector|log_directory|log_filename|archive_mode|archive_command|archive_library|restore_command|primary_conninfo|primary_slot_name|synchronous_standby_names|ssl.*|include.*)$/;

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** Starts a standby of `primaryUrl`'s cluster; resolves once it answers and has replayed what the primary had written. */
export async function startStandby(primaryUrl: string): Promise<Standby> {
  await allowReplicationConnections(primaryUrl);
  const primary = new URL(primaryUrl);
  const admin = new Client({ connectionString: primaryUrl });
  await admin.connect();
  let settings: { name: string; setting: string }[];
  let bin: string;
  try {
    bin = await binDir(admin);
    settings = (
      await admin.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE (source = 'configuration file' OR name = ANY($1)) AND context <> 'internal'`,
        [AT_LEAST_PRIMARY],
      )
    ).rows.filter((s) => !NOT_COPIED.test(s.name));
  } finally {
    await admin.end();
  }
  const as = postgresUser();
  const tool = (name: string) => (bin ? join(bin, name) : name);
  const dir = mkdtempSync(join(tmpdir(), 'chat-standby-'));
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const port = await freePort();
  const runAs = (file: string, args: string[]) => run(tool(file), args, { ...(as && { uid: as.uid, gid: as.gid }), env: { ...process.env, PGAPPNAME: 'chat-api tests standby' } });

  const stopAll = async () => {
    if (existsSync(join(data, 'postmaster.pid'))) {
      await runAs('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    }
    killLeftovers();
    rmSync(dir, { recursive: true, force: true });
  };
  // The processes of a killed postmaster end as they notice; whatever is left is ended here.
  const children = new Set<number>();
  const killLeftovers = () => {
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
      pidsToKill.delete(pid);
    }
    children.clear();
  };

  try {
    // -c fast: an immediate checkpoint (a spread one may take minutes); -N: a throwaway copy need not be fsynced.
    await runAs('pg_basebackup', ['-h', primary.hostname, '-p', primary.port || '5432', '-U', decodeURIComponent(primary.username || 'postgres'), '-D', data, '-R', '-X', 'stream', '-c', 'fast', '-N']);
    const conf = [
      '# The primary\'s settings (pg_settings), then the standby\'s own.',
      ...settings.map((s) => `${s.name} = ${quote(s.setting)}`),
      'hot_standby = on',
      // Queries on the standby are not cancelled by vacuum on the primary (tests read while it writes).
      'hot_standby_feedback = on',
      "shared_buffers = '32MB'",
    ];
    writeFileSync(join(dir, 'standby.conf'), `${conf.join('\n')}\n`);
    writeFileSync(join(dir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
    writeFileSync(join(dir, 'pg_ident.conf'), '');
    const options = [
      `-c config_file=${join(dir, 'standby.conf')}`,
      `-c hba_file=${join(dir, 'pg_hba.conf')}`,
      `-c ident_file=${join(dir, 'pg_ident.conf')}`,
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      `-c cluster_name=chat-test-standby-${port}`,
    ].join(' ');
    await runAs('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '120', 'start']);
  } catch (error) {
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
    await stopAll();
    throw new Error(`The standby did not start: ${(error as Error).message}${log ? `\nits log:\n${log}` : ''}`);
  }

  const pidFile = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n');
  const postmasterPid = Number(pidFile[0]);
  // Line 7: the SysV shared memory key and id; a SIGKILLed postmaster leaves the segment behind.
  const shmemId = pidFile[6]?.trim().split(/\s+/)[1];
  let killed = false;
  pidsToKill.add(postmasterPid);
  const url = (database: string) => {
    const u = new URL(primaryUrl);
    u.hostname = '127.0.0.1';
    u.port = String(port);
    u.pathname = `/${database}`;
    return u.toString();
  };
  const onStandby = async <T>(sql: string): Promise<T[]> => {
    const client = new Client({ connectionString: url('postgres') });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  };
  const noteChildren = () => {
    try {
      for (const pid of execFileSync('pgrep', ['-P', String(postmasterPid)]).toString().trim().split('\n').map(Number)) {
        if (pid > 0) {
          children.add(pid);
          pidsToKill.add(pid);
        }
      }
    } catch {
      // no children (pgrep exits 1)
    }
  };

  const standby: Standby = {
    port,
    postmasterPid,
    url,
    pause: async () => {
      await onStandby('SELECT pg_wal_replay_pause()');
    },
    resume: async () => {
      await onStandby('SELECT pg_wal_replay_resume()');
    },
    caughtUp: async (timeoutMs = 30_000) => {
      const admin = new Client({ connectionString: primaryUrl });
      await admin.connect();
      let target: string;
      try {
        target = (await admin.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
      } finally {
        await admin.end();
      }
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [row] = await onStandby<{ done: boolean }>(`SELECT pg_last_wal_replay_lsn() >= '${target}'::pg_lsn AS done`).catch(() => [{ done: false }]);
        if (row.done) return;
        if (Date.now() > deadline) throw new Error(`the standby did not replay up to ${target} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: async () => {
      noteChildren();
      process.kill(postmasterPid, 'SIGKILL');
      killed = true;
      pidsToKill.delete(postmasterPid);
      // Bounded: the kernel reaps a SIGKILLed process at once.
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(postmasterPid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: async () => {
      noteChildren();
      pidsToKill.delete(postmasterPid);
      await stopAll();
      if (killed && shmemId) await run('ipcrm', ['-m', shmemId]).catch(() => {});
    },
  };
  return standby;
}
