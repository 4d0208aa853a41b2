/**
 * noisy: what one user's subscriptions cost the others. Other users list their
 * rooms alone, then while one attacker holds many per-viewer subscriptions on a
 * room edited 10 times a second; alternating rounds, the server left to settle
 * after each attack.
 */
import { cpus } from 'node:os';
import { Client } from 'pg';
import type { Lane, LoadSpec } from '../load/http-load';
import type { ManyStats } from '../load/ws-load';
import { median } from '../lib/common';
import { type Context, type Row, writeResult } from '../lib/context';
import { fmt, ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { runTimed, summarize, type TimedRun } from '../lib/measure';
import { groupStatements } from '../lib/plans';
import { body, EDIT, INBOX, noisySubscription } from '../lib/queries';
import { auth, post } from '../lib/requests';
import { PEOPLE, range, ROOMS } from '../lib/seed';
import { paced, waitUntil } from '../lib/wait';

/** noisy: inbox readers 10..13 list their rooms; the attacker holds 5 sockets x 50 subscriptions; NOISY sees 10 edits/s. */
const NOISY_VICTIMS = 4;
const NOISY_SOCKETS = 5;
const NOISY_SUBS_PER_SOCKET = 50;
const NOISY_EDITS_PER_SEC = 10;

interface PoolQueue {
  samples: number;
  meanWaiting: number;
  shareWithWaiters: number;
  maxWaiting: number;
}

/** The attacker's subscriptions, as the load process counted them (load/ws-load.ts `openMany`). */
type AttackStats = ManyStats;

export async function noisy(ctx: Context): Promise<Row[]> {
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
    await ctx.http.call('run', { spec: spec(ctx.size.warmupSec) });
    await attack();
    await ctx.http.call('run', { spec: spec(ctx.size.warmupSec) });
    residueMs.push(await release());
    for (let i = 0; i < ctx.size.repeats; i++) {
      let e0 = editor.done();
      await ctx.ours.worker.call('poolQueue', { on: true });
      const quiet = await runTimed(ctx, ctx.ours, spec(ctx.size.durationSec));
      poolQueue.alone.push(await ctx.ours.worker.call<PoolQueue>('poolQueue', { on: false }));
      alone.push(quiet);
      editRates.alone.push((editor.done() - e0) / quiet.seconds);
      const a = await attack();
      await ctx.ws.call('stats', { group: 'noisy', reset: true });
      e0 = editor.done();
      const clientCpu = await ctx.ws.call<NodeJS.CpuUsage>('cpu');
      await ctx.ours.worker.call('poolQueue', { on: true });
      const run = await runTimed(ctx, ctx.ours, spec(ctx.size.durationSec));
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
  writeResult(
    'noisy-statements.txt',
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

