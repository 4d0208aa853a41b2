/**
 * fanout: sockets of distinct users subscribed to one room, messages sent one after
 * another over HTTP; deliveries/s and latency from the moment the server published
 * each event (right after the send's COMMIT) to its receipt.
 */
import { median, percentile, sortedCopy } from '../lib/common';
import { type Context, type Row, type Target, writeResult } from '../lib/context';
import { fmt, ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { body, SEND } from '../lib/queries';
import { post } from '../lib/requests';
import { PEOPLE, ROOMS } from '../lib/seed';
import { subscribe, unsubscribe } from '../lib/subscribers';

/** Messages sent one after another per repeat. */
const FANOUT_MESSAGES = 20;

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
    for (let r = 0; r < ctx.size.fanoutRepeats; r++) {
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
      writeResult('fanout-statements.txt', `statements for one message sent to ${c.connected} subscribers (${captured.length} in all)\n${lines.join('\n')}\n`);
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

export async function fanout(ctx: Context): Promise<Row[]> {
  const n = ctx.size.fanoutSockets;
  const ours = await fanoutOn(ctx, ctx.ours, n);
  const base = await fanoutOn(ctx, ctx.baseline, n);
  return [
    { scenario: 'fanout', metric: `deliveries/s, 1 room, ${n} sockets, ${FANOUT_MESSAGES} messages`, ours: round(ours.deliveriesPerSec, 0), baseline: round(base.deliveriesPerSec, 0), ratio: ratio(ours.deliveriesPerSec, base.deliveriesPerSec), p50: round(ours.p50), p99: round(ours.p99), statements: round(ours.statementsPerMessage, 1) },
    { scenario: 'fanout', metric: 'commit->receipt p50 ms', ours: round(ours.p50), baseline: round(base.p50), ratio: ratio(ours.p50, base.p50), p50: round(ours.p50), p99: round(ours.p99), statements: round(ours.statementsPerMessage, 1) },
  ];
}
