/** mixed: lanes cycling history pages, sends and a rooms list while subscribers listen; the best req/s with p95 <= 50 ms. */
import type { Lane, LoadResult, LoadSpec } from '../load/http-load';
import type { Context, Row, Target } from '../lib/context';
import { fmt, ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { body, HISTORY, INBOX, sendBody } from '../lib/queries';
import { auth } from '../lib/requests';
import { PEOPLE, ROOMS, SEND_ROOMS } from '../lib/seed';
import { subscribe, unsubscribe } from '../lib/subscribers';

/** 16 history pages, 3 sends, 1 rooms list, in a fixed shuffled order (80/15/5). */
function mixedCycle(lane: number): { body: string; uniqueClientId?: boolean }[] {
  const historyText = body(HISTORY, 'HistoryPage', { roomId: ROOMS.hist, before: null, limit: 50 });
  const roomsText = body(INBOX, 'Inbox', { pageSize: 20 });
  const order = 'HHHSHHHHRHHSHHHHHSHH';
  return [...order].map((k) => (k === 'H' ? { body: historyText } : k === 'R' ? { body: roomsText } : { body: sendBody(lane % SEND_ROOMS), uniqueClientId: true }));
}

async function mixedOn(ctx: Context, target: Target): Promise<{ best: LoadResult | null; level: number | null }> {
  const m = ctx.size.mixedSubscribers;
  const subs = Array.from({ length: m }, (_, i) => ({ user: PEOPLE.socketBase + i, roomId: ROOMS.send(i % SEND_ROOMS) }));
  const c = await subscribe(ctx, target, 'mixed', subs);
  log(`  mixed ${target.name}: ${c.connected} subscribers connected`);
  try {
    let best: LoadResult | null = null;
    let bestLevel: number | null = null;
    let warm = false;
    for (const level of ctx.size.mixedLevels) {
      const lanes: Lane[] = Array.from({ length: level }, (_, k) => ({ headers: auth(ctx, PEOPLE.send[k % SEND_ROOMS]), requests: mixedCycle(k) }));
      const spec: LoadSpec = { url: target.url, lanes, durationSec: ctx.size.durationSec };
      if (!warm) {
        await ctx.http.call('run', { spec: { ...spec, durationSec: ctx.size.warmupSec } });
        warm = true;
      }
      const runs: LoadResult[] = [];
      for (let i = 0; i < ctx.size.repeats; i++) runs.push(await ctx.http.call<LoadResult>('run', { spec }));
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

export async function mixed(ctx: Context): Promise<Row[]> {
  const ours = await mixedOn(ctx, ctx.ours);
  const base = await mixedOn(ctx, ctx.baseline);
  const o = ours.best?.rps ?? null;
  const b = base.best?.rps ?? null;
  return [
    { scenario: 'mixed', metric: `req/s at p95 <= 50 ms, 80/15/5 history/send/rooms, ${ctx.size.mixedSubscribers} subscribers (ours at ${ours.level ?? '-'} conns, baseline at ${base.level ?? '-'})`, ours: round(o, 1), baseline: round(b, 1), ratio: ratio(o, b), p50: round(ours.best?.p50 ?? null), p99: round(ours.best?.p99 ?? null), statements: null },
  ];
}
