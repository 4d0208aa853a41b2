/**
 * noisy: what one user can cost the others. Four other users list their rooms
 * (`rooms(pageSize: 20)`) alone, then while one attacker runs an attack, for
 * each attack in turn: the per-viewer subscriptions of the first round (on a
 * room edited 10 times a second), and issue 17's F2 (search), F3 (readBy
 * aliases), F4 (member lists in subscriptions) and F6 (identical replays).
 * Each attack is measured against an alone run just before it (a pair), in
 * alternating rounds; the server is left to settle (pool idle) after each.
 */
import { cpus } from 'node:os';
import { Client } from 'pg';
import type { Lane, LoadResult, LoadSpec } from '../load/http-load';
import type { ManyStats } from '../load/ws-load';
import { forkScript, median, sleep, type Worker } from '../lib/common';
import { type Context, type Row, writeResult } from '../lib/context';
import { cpuWindow } from '../lib/cpu';
import { fmt, ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { runTimed, summarize, type TimedRun } from '../lib/measure';
import { groupStatements } from '../lib/plans';
import { body, EDIT, INBOX, membersAttack, noisySubscription, READBY_ATTACK_ALIASES, readByAttack, REPLAY_ATTACK, SEARCH_ATTACK_ALIASES, SEARCH_ATTACK_QUERY, searchAttack, SEND } from '../lib/queries';
import { auth, post } from '../lib/requests';
import { NOISY_ATTACK, PEOPLE, range, ROOMS, seedNoisyAttacks } from '../lib/seed';
import { paced, type Paced, waitUntil } from '../lib/wait';

/** noisy: inbox readers 10..13 list their rooms; the attacker holds 5 sockets x 50 subscriptions; NOISY sees 10 edits/s. */
const NOISY_VICTIMS = 4;
const NOISY_SOCKETS = 5;
const NOISY_SUBS_PER_SOCKET = 50;
const NOISY_EDITS_PER_SEC = 10;
/** F4: messages sent into its room per second, during both runs of its pair. */
const F4_SENDS_PER_SEC = 10;
/** F4: subscriptions the attacker tries (one socket holds 50 at most); the budget refuses those over it. */
const F4_SUBSCRIPTIONS = 50;
/** F6: identical replaying subscriptions (one socket). */
const F6_SUBSCRIPTIONS = 50;
/** A request attack starts this long before the others' run (it is under way when they start) and ends this long after. */
const REQUEST_ATTACK_LEAD_SEC = 1;

interface PoolQueue {
  samples: number;
  meanWaiting: number;
  shareWithWaiters: number;
  maxWaiting: number;
}

/** The attacker's subscriptions, as the load process counted them (load/ws-load.ts `openMany`). */
type AttackStats = ManyStats;

/** What the attacker got during one run of the others. */
interface Got {
  /** Subscriptions opened or requests sent. */
  tried: number;
  /** Refused by a limit: subscriptions with BAD_USER_INPUT; requests answered 4xx. */
  refused: number;
  /** Failed otherwise (errors in results, sockets, timeouts). */
  failed: number;
  /** Subscriptions live, or requests answered 2xx. */
  answered: number;
  /** Results received per second of the others' run (subscriptions), or requests answered per second (requests). */
  perSec: number;
  /** The attacker's own latency (requests). */
  p50: number | null;
  p99: number | null;
  /** The attacker's client process's CPU, in cores (subscriptions: the socket load process). */
  clientCores: number | null;
  /** How long our server stayed busy after the attack ended (its queued work), ms. */
  residueMs: number;
  firstRefusal: string;
  lastError: string;
}

/** One attack: what it does to our server while the others' run goes on. */
interface Attack {
  /** In the log and the rows. */
  label: string;
  /** Subscriptions held during the run, or requests sent in a loop. */
  kind: 'subscriptions' | 'requests';
  /** What the attacker does, one line for the log. */
  what: string;
  /** Traffic the attack's room needs, during both runs of its pair (alone too, so only the attack differs). */
  background?: () => Paced;
  /** Starts the attack, runs `others` while it is on, ends it and lets the server settle. */
  during(others: () => Promise<TimedRun>): Promise<{ run: TimedRun; got: Got }>;
}

/** One attack's pairs of runs. */
interface Pairs {
  alone: TimedRun[];
  with: TimedRun[];
  got: Got[];
  poolAlone: PoolQueue[];
  poolWith: PoolQueue[];
  /** Edits of the NOISY room per second during each run (the editor runs throughout). */
  editsAlone: number[];
  editsWith: number[];
  /** CPU of the whole machine (everything on it, neighbours included) and of our database's PostgreSQL backends, in cores, during each run. */
  machineAlone: number[];
  machineWith: number[];
  postgresAlone: number[];
  postgresWith: number[];
}

const cores = (run: TimedRun) => run.cpuMs / (run.seconds * 1000);
const cpuMsBetween = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (b.user - a.user + b.system - a.system) / 1000;

export async function noisy(ctx: Context): Promise<Row[]> {
  const victims = PEOPLE.inbox.slice(0, NOISY_VICTIMS);
  const text = body(INBOX, 'Inbox', { pageSize: 20 });
  const lanes: Lane[] = victims.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
  const spec = (durationSec: number): LoadSpec => ({ url: ctx.ours.url, lanes, durationSec });
  const attackerToken = ctx.tokens.get(PEOPLE.attacker) as string;
  const editorToken = ctx.tokens.get(PEOPLE.editor) as string;
  const replayMessages = ctx.quick ? NOISY_ATTACK.replayMessagesQuick : NOISY_ATTACK.replayMessages;
  const { replayFrom } = await seedNoisyAttacks(ctx.dbUrl, replayMessages, log);

  // Open for the whole scenario: it reads the CPU of the other backends of the database around each run.
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  const { rows: messageRows } = await db.query(`SELECT id FROM messages WHERE room_id = $1 ORDER BY seq`, [ROOMS.noisy]);
  const ids = messageRows.map((r) => r.id as string);
  const edit = (n: number) => post(ctx.ours.url, editorToken, body(EDIT, 'Edit', { id: ids[n % ids.length], content: `Noisy message ${(n % ids.length) + 1}, edit ${n}` }));

  const baseListeners = await ctx.ours.worker.call<number>('subscribers');
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

  /** Subscriptions of the attacker on `sockets`, opened for each run of the others and closed after it. */
  const subscriptions = (group: string, sockets: { token: string; subs: { query: string; variables: Record<string, unknown> }[] }[]) => {
    const total = sockets.reduce((n, s) => n + s.subs.length, 0);
    const open = async (): Promise<AttackStats & { live: number }> => {
      const r = await ctx.ws.call<{ connected: number; failed: number }>('openMany', { group, url: ctx.ours.wsUrl, sockets }, 60_000);
      if (r.failed) log(`  warning: ${r.failed} of ${sockets.length} attacker sockets failed`);
      let st: AttackStats | null = null;
      let live = 0;
      await waitUntil(
        'the attacker subscriptions to be accepted or refused',
        async () => {
          st = await ctx.ws.call<AttackStats>('stats', { group });
          live = (await ctx.ours.worker.call<number>('subscribers')) - baseListeners;
          return live + st.refused + st.errors >= total;
        },
        30_000,
      );
      return { ...(st as unknown as AttackStats), live };
    };
    /** Closes the sockets, waits until the server holds none of their subscriptions, then until it settles: the ms that took. */
    const close = async (): Promise<number> => {
      await ctx.ws.call('close', { group }, 60_000);
      await waitUntil('the attacker subscriptions to end', async () => (await ctx.ours.worker.call<number>('subscribers')) <= baseListeners, 30_000);
      return settle();
    };
    const stats = () => ctx.ws.call<AttackStats | null>('stats', { group });
    const during = async (others: () => Promise<TimedRun>) => {
      const a = await open();
      await ctx.ws.call('stats', { group, reset: true });
      const clientCpu = await ctx.ws.call<NodeJS.CpuUsage>('cpu');
      const run = await others();
      const clientCpuAfter = await ctx.ws.call<NodeJS.CpuUsage>('cpu');
      const after = (await stats()) as AttackStats;
      const residueMs = await close();
      const got: Got = {
        tried: total,
        refused: a.refused,
        failed: after.errors,
        answered: a.live,
        perSec: after.results / run.seconds,
        p50: null,
        p99: null,
        clientCores: cpuMsBetween(clientCpu, clientCpuAfter) / (run.seconds * 1000),
        residueMs,
        firstRefusal: a.firstRefusal,
        lastError: after.lastError,
      };
      return { run, got };
    };
    return { total, open, close, stats, during };
  };

  /** The attacker's HTTP requests in a closed loop (one connection), from a load process of its own. */
  let attackerHttp: Worker | null = null;
  const requests = (document: string, variables: Record<string, unknown>, operationName: string) => {
    const text = body(document, operationName, variables);
    const during = async (others: () => Promise<TimedRun>) => {
      attackerHttp ??= forkScript('attacker http load', 'load/http-load.ts', { ...process.env });
      await attackerHttp.ready;
      const durationSec = REQUEST_ATTACK_LEAD_SEC + ctx.size.durationSec + REQUEST_ATTACK_LEAD_SEC;
      const attack = attackerHttp.call<LoadResult>('run', { spec: { url: ctx.ours.url, lanes: [{ headers: auth(ctx, PEOPLE.attacker), requests: [{ body: text }] }], durationSec } }, 600_000);
      await sleep(REQUEST_ATTACK_LEAD_SEC * 1000);
      const run = await others();
      const r = await attack;
      const residueMs = await settle();
      const answered = r.requests - r.non2xx;
      const got: Got = {
        tried: r.requests + r.errors + r.timeouts,
        refused: r.non2xx,
        failed: r.errors + r.timeouts,
        answered,
        perSec: answered / r.seconds,
        p50: r.p50,
        p99: r.p99,
        clientCores: null,
        residueMs,
        firstRefusal: '',
        lastError: '',
      };
      return { run, got };
    };
    return { text, during };
  };
  /** One request of an attack, on its own: what our server answers it (data or error codes), how long it took, its statements and our server's CPU. */
  const probe = async (label: string, text: string): Promise<void> => {
    await settle();
    const statements = await ctx.ours.worker.call<number>('statements');
    const cpu = await ctx.ours.worker.call<NodeJS.CpuUsage>('cpu');
    const t = Date.now();
    const res = await fetch(ctx.ours.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${attackerToken}` }, body: text });
    const json = (await res.json()) as { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };
    const ms = Date.now() - t;
    const cpuMs = cpuMsBetween(cpu, await ctx.ours.worker.call<NodeJS.CpuUsage>('cpu'));
    const sent = (await ctx.ours.worker.call<number>('statements')) - statements;
    const errors = json.errors ?? [];
    const data = json.data ? Object.entries(json.data).map(([k, v]) => `${k}: ${Array.isArray(v) ? `${v.length} items` : typeof v}`) : [];
    log(
      `  noisy ${label} probe: HTTP ${res.status} in ${ms} ms, ${sent} statements, our server's CPU ${fmt(cpuMs, 1)} ms; ${errors.length ? `REFUSED ${[...new Set(errors.map((e) => e.extensions?.code))].join(', ')}: ${errors[0].message.slice(0, 200)}` : `answered (${data.slice(0, 3).join(', ')}${data.length > 3 ? `, ... ${data.length} fields` : ''})`}`,
    );
  };

  // The attack of the first round: half of each socket's subscriptions the one identical text, half each a text of its own.
  const perViewer = subscriptions(
    'noisy',
    range(0, NOISY_SOCKETS).map((i) => ({
      token: attackerToken,
      subs: range(0, NOISY_SUBS_PER_SOCKET).map((k) => ({
        query: noisySubscription(k % 2 === 0 ? null : i * NOISY_SUBS_PER_SOCKET + k),
        variables: { roomId: ROOMS.noisy },
      })),
    })),
  );
  const distinct = 1 + NOISY_SOCKETS * Math.floor(NOISY_SUBS_PER_SOCKET / 2);
  const f2 = requests(searchAttack(SEARCH_ATTACK_ALIASES), { q: SEARCH_ATTACK_QUERY }, 'SearchAttack');
  const f3 = requests(readByAttack(READBY_ATTACK_ALIASES), { roomId: ROOMS.attackReads }, 'ReadByAttack');
  const f4 = subscriptions('noisy-f4', [{ token: attackerToken, subs: range(0, F4_SUBSCRIPTIONS).map((k) => ({ query: membersAttack(k, null), variables: { roomId: ROOMS.attackLive } })) }]);
  const f6 = subscriptions('noisy-f6', [{ token: attackerToken, subs: range(0, F6_SUBSCRIPTIONS).map(() => ({ query: REPLAY_ATTACK, variables: { roomId: ROOMS.attackReplay, since: replayFrom } })) }]);
  const attacks: Attack[] = [
    { label: 'attacker', kind: 'subscriptions', what: `${perViewer.total} per-viewer messageUpdated subscriptions on ${NOISY_SOCKETS} sockets (${distinct} distinct texts), NOISY edited ${NOISY_EDITS_PER_SEC}/s`, during: perViewer.during },
    { label: 'F2 search attacker', kind: 'requests', what: `${SEARCH_ATTACK_ALIASES} aliases of searchMessages(100 words, limit: 100) { snippet } over ${NOISY_ATTACK.wordMessages} messages of ${NOISY_ATTACK.wordsPerMessage} one-letter words, 1 connection in a loop`, during: f2.during },
    { label: 'F3 readBy attacker', kind: 'requests', what: `a 200-message page with readCount and ${READBY_ATTACK_ALIASES} aliased readBy(limit: 1) { id }, room of ${NOISY_ATTACK.crowdMembers} members, 1 connection in a loop`, during: f3.during },
    {
      label: 'F4 members attacker',
      kind: 'subscriptions',
      what: `${F4_SUBSCRIPTIONS} distinct messageAdded subscriptions selecting room { members { id user { id displayName } } } (default limit 100), room of ${NOISY_ATTACK.crowdMembers} members sent ${F4_SENDS_PER_SEC} messages/s`,
      background: () =>
        // Open loop (up to 5 sends under way), during both runs of the pair.
        paced(F4_SENDS_PER_SEC, async (n) => void (await post(ctx.ours.url, editorToken, body(SEND, 'Send', { input: { roomId: ROOMS.attackLive, content: `F4 message ${n}`, clientId: `f4-${Date.now()}-${n}` } }))), 0, 5),
      during: f4.during,
    },
    { label: 'F6 replay attacker', kind: 'subscriptions', what: `${F6_SUBSCRIPTIONS} identical messageAdded(since: its first message) on a room of ${replayMessages} messages`, during: f6.during },
  ];
  for (const a of attacks) log(`  noisy ${a.label}: ${a.what}`);

  // Each request attack on its own, three times (the first also parses, validates and compiles the
  // document), and F4 at the largest page (members(limit: 500)).
  try {
    for (const n of [1, 2, 3]) await probe(`F2 search attacker (request ${n})`, f2.text);
    for (const n of [1, 2, 3]) await probe(`F3 readBy attacker (request ${n})`, f3.text);
    const f4max = subscriptions('noisy-f4-max', [{ token: attackerToken, subs: [{ query: membersAttack(0, 500), variables: { roomId: ROOMS.attackLive } }] }]);
    const max = await f4max.open();
    log(`  noisy F4 members attacker, members(limit: 500): ${max.live ? 'live' : max.refused ? `REFUSED (BAD_USER_INPUT: ${max.firstRefusal})` : `failed (${max.lastError})`}`);
    await f4max.close();
  } catch (error) {
    await db.end();
    throw error;
  }

  const pairs: Pairs[] = attacks.map(() => ({ alone: [], with: [], got: [], poolAlone: [], poolWith: [], editsAlone: [], editsWith: [], machineAlone: [], machineWith: [], postgresAlone: [], postgresWith: [] }));
  // Open loop (up to 5 edits under way): the room sees ~10 edits/s however slow the server gets.
  const editor = paced(NOISY_EDITS_PER_SEC, async (n) => void (await edit(n)), 0, 5);
  let edits = { done: 0, failed: 0, lastError: '', seconds: 0 };
  /** The others' run, with our pool's queue (sampled every 10 ms), the edits of NOISY, and the machine's and PostgreSQL's CPU meanwhile. */
  const othersRun = async (p: Pairs, side: 'alone' | 'with'): Promise<TimedRun> => {
    const e0 = editor.done();
    const window = await cpuWindow(db);
    await ctx.ours.worker.call('poolQueue', { on: true });
    const run = await runTimed(ctx, ctx.ours, spec(ctx.size.durationSec));
    const queue = await ctx.ours.worker.call<PoolQueue>('poolQueue', { on: false });
    const cpu = await window();
    const alone = side === 'alone';
    (alone ? p.poolAlone : p.poolWith).push(queue);
    (alone ? p.editsAlone : p.editsWith).push((editor.done() - e0) / run.seconds);
    (alone ? p.machineAlone : p.machineWith).push(cpu.machineCores);
    (alone ? p.postgresAlone : p.postgresWith).push(cpu.postgresCores);
    return run;
  };
  /** What an attack's first pair of runs warmed up: the server has served both once. */
  const warmRun = () => runTimed(ctx, ctx.ours, spec(ctx.size.warmupSec));
  try {
    for (const a of attacks) {
      const bg = a.background?.();
      try {
        await warmRun();
        await a.during(warmRun);
      } finally {
        await bg?.stop();
      }
    }
    for (let i = 0; i < ctx.size.repeats; i++) {
      for (const [k, a] of attacks.entries()) {
        const p = pairs[k];
        const bg = a.background?.();
        try {
          p.alone.push(await othersRun(p, 'alone'));
          const { run, got } = await a.during(() => othersRun(p, 'with'));
          p.with.push(run);
          p.got.push(got);
        } finally {
          const b = await bg?.stop();
          if (b?.failed) log(`  warning: ${b.failed} background sends of ${a.label} failed (${b.lastError})`);
        }
      }
    }
  } finally {
    edits = await editor.stop();
    for (const group of ['noisy', 'noisy-f4', 'noisy-f6']) await ctx.ws.call('close', { group }, 60_000).catch(() => {});
    await (attackerHttp as Worker | null)?.stop();
    await db.end();
  }

  // What one edit costs in statements, alone and with the first attacker listening: the editor stopped,
  // the server settled, one edit, then until every live subscription has its result and the pool is quiet.
  const oneEdit = async (n: number, expectResults: number): Promise<{ query: string }[]> => {
    await settle();
    const before = (await perViewer.stats())?.results ?? 0;
    await ctx.ours.worker.call('capture', { on: true });
    await edit(n);
    await waitUntil(`the attacker's ${expectResults} results of one edit`, async () => ((await perViewer.stats())?.results ?? 0) - before >= expectResults, 60_000);
    await settle();
    await ctx.ours.worker.call('capture', { on: false });
    return ctx.ours.worker.call<{ query: string }[]>('captured');
  };
  const capturedAlone = await oneEdit(1_000_001, 0);
  const a1 = await perViewer.open();
  const capturedWith = await oneEdit(1_000_002, a1.live);
  await perViewer.close();
  const lines = groupStatements(capturedWith);
  writeResult(
    'noisy-statements.txt',
    `statements our server sent for one edit: ${capturedAlone.length} alone; ${capturedWith.length} with the attacker's ${a1.live} subscriptions live (${distinct} distinct texts, ${a1.refused} refused):\n${lines.join('\n')}\n`,
  );
  log(`  noisy: one edit cost ${capturedAlone.length} statements alone, ${capturedWith.length} with the attacker's ${a1.live} subscriptions live (bench/results/noisy-statements.txt):`);
  for (const line of lines.slice(0, 6)) log(`    ${line}`);

  const who = `rooms(pageSize: 20), ${victims.length} other users`;
  const waiting = (list: PoolQueue[]) => median(list.map((q) => q.meanWaiting));
  const queue = (list: PoolQueue[]) =>
    `${fmt(median(list.map((q) => q.meanWaiting)), 2)} waiting on average, some waiting ${fmt((median(list.map((q) => q.shareWithWaiters)) ?? 0) * 100, 0)} % of the time, at most ${Math.max(0, ...list.map((q) => q.maxWaiting))}`;
  log(`  noisy editor: ${edits.done} edits in ${fmt(edits.seconds)} s (${fmt(edits.done / edits.seconds)}/s)${edits.failed ? `; ${edits.failed} failed (${edits.lastError})` : ''}`);
  const rows: Row[] = [];
  for (const [k, attack] of attacks.entries()) {
    const p = pairs[k];
    const label = attack.label;
    const a = summarize(ctx.ours, p.alone, `noisy alone (${label} pair)`);
    const w = summarize(ctx.ours, p.with, `noisy with ${label}`);
    const last = p.got[p.got.length - 1];
    const mid = (f: (g: Got) => number | null) => median(p.got.map(f));
    const coresAlone = median(p.alone.map(cores));
    const coresWith = median(p.with.map(cores));
    const subscribed = attack.kind === 'subscriptions';
    log(
      `  noisy ${label}: ${last.tried} ${subscribed ? 'subscriptions' : 'requests'}, ${last.answered} ${subscribed ? 'live' : 'answered'}, ${last.refused} refused${last.failed ? `, ${last.failed} failed (${last.lastError})` : ''}; ` +
        `${subscribed ? `received ${fmt(mid((g) => g.perSec))} results/s` : `${fmt(mid((g) => g.perSec))} requests answered/s, p50 ${fmt(mid((g) => g.p50), 1)} ms, p99 ${fmt(mid((g) => g.p99), 1)} ms`}` +
        `${last.clientCores !== null ? `; its client process ${fmt(mid((g) => g.clientCores), 2)} cores` : ''}`,
    );
    if (last.firstRefusal) log(`  noisy ${label} refusal: ${last.firstRefusal}`);
    log(`  noisy ${label}: after it ended, our server stayed busy for ${p.got.map((g) => fmt(g.residueMs / 1000)).join(', ')} s (its queued work)`);
    log(`  noisy ${label}: our pool's queue (20 connections): alone ${queue(p.poolAlone)}; with it ${queue(p.poolWith)}`);
    const machineAlone = median(p.machineAlone);
    const machineWith = median(p.machineWith);
    const postgresAlone = median(p.postgresAlone);
    const postgresWith = median(p.postgresWith);
    // The others' requests cost about what they cost alone: the rest of our server's CPU with the attack is the attacker's.
    const othersCores = w.rps !== null && a.cpuMs !== null ? (w.rps * a.cpuMs) / 1000 : null;
    const attackerShare = coresWith !== null && othersCores !== null && coresWith > 0 ? Math.max(0, coresWith - othersCores) / coresWith : null;
    log(
      `  noisy ${label}: p50 with/alone ${fmt(ratio(w.p50, a.p50), 2)}, p99 ${fmt(ratio(w.p99, a.p99), 2)}, req/s ${fmt(ratio(w.rps, a.rps), 2)}; ` +
        `cores busy alone -> with: our server ${fmt(coresAlone, 2)} -> ${fmt(coresWith, 2)} (the attacker's share about ${fmt((attackerShare ?? 0) * 100, 0)} %), ` +
        `PostgreSQL ${fmt(postgresAlone, 2)} -> ${fmt(postgresWith, 2)}, the whole machine ${fmt(machineAlone, 2)} -> ${fmt(machineWith, 2)} (of ${cpus().length})`,
    );
    const vs = (metric: string, ours: number | null, base: number | null, digits = 2): Row => ({
      scenario: 'noisy',
      metric,
      ours: round(ours, digits),
      baseline: round(base, digits),
      ratio: ratio(ours, base),
      p50: round(w.p50),
      p99: round(w.p99),
      statements: null,
    });
    rows.push(
      vs(`p50 ms, ${who}, with ${label} (baseline: alone)`, w.p50, a.p50),
      vs(`p99 ms, ${who}, with ${label} (baseline: alone)`, w.p99, a.p99),
      vs(`req/s, ${who}, with ${label} (baseline: alone)`, w.rps, a.rps, 1),
      vs(`server CPU, cores busy, with ${label} (baseline: alone)`, coresWith, coresAlone),
      { scenario: 'noisy', metric: `server CPU, the ${label}'s share, estimated (others' requests at their cost alone)`, ours: round(attackerShare), baseline: null, ratio: null, p50: null, p99: null, statements: null },
      vs(`PostgreSQL CPU (our database's backends), cores busy, with ${label} (baseline: alone)`, postgresWith, postgresAlone),
      vs(`machine CPU (every process), cores busy, with ${label} (baseline: alone)`, machineWith, machineAlone),
    );
    if (k === 0) {
      // The first round's rows, as they were.
      const editsWith = median(p.editsWith) ?? 0;
      log(`  noisy ${label}: its subscriptions were owed ${fmt(editsWith * last.answered, 0)} results/s (${fmt(editsWith)} edits/s during its runs, ${fmt(median(p.editsAlone))}/s alone)`);
      rows.push(
        { scenario: 'noisy', metric: `attacker subscriptions refused of ${last.tried} (${NOISY_SOCKETS} sockets; baseline: live)`, ours: last.refused, baseline: last.answered, ratio: null, p50: null, p99: null, statements: null },
        { scenario: 'noisy', metric: `attacker results received/s (baseline: owed at ${fmt(editsWith)} edits/s)`, ours: round(mid((g) => g.perSec), 0), baseline: round(editsWith * last.answered, 0), ratio: ratio(mid((g) => g.perSec), editsWith * last.answered), p50: null, p99: null, statements: null },
        { scenario: 'noisy', metric: 'requests waiting for a pool connection, mean, with attacker (baseline: alone)', ours: round(waiting(p.poolWith)), baseline: round(waiting(p.poolAlone)), ratio: ratio(waiting(p.poolWith), waiting(p.poolAlone)), p50: null, p99: null, statements: null },
        { scenario: 'noisy', metric: 'statements for one edit, attacker listening (baseline: alone)', ours: capturedWith.length, baseline: capturedAlone.length, ratio: ratio(capturedWith.length, capturedAlone.length), p50: null, p99: null, statements: null },
      );
    } else if (subscribed) {
      rows.push(
        { scenario: 'noisy', metric: `${label}: subscriptions refused of ${last.tried} (baseline: live)`, ours: last.refused, baseline: last.answered, ratio: null, p50: null, p99: null, statements: null },
        { scenario: 'noisy', metric: `${label}: results received/s`, ours: round(mid((g) => g.perSec), 0), baseline: null, ratio: null, p50: null, p99: null, statements: null },
      );
    } else {
      rows.push({ scenario: 'noisy', metric: `${label}: requests answered/s, 1 connection, p50/p99 its own (baseline: refused)`, ours: round(mid((g) => g.perSec), 1), baseline: last.refused, ratio: null, p50: round(mid((g) => g.p50)), p99: round(mid((g) => g.p99)), statements: null });
    }
  }
  return rows;
}
