/** history: a 50-message page with every field of issue 13, 10 readers of HIST, ours against the baseline's one statement. */
import type { Lane } from '../load/http-load';
import type { Context, Row } from '../lib/context';
import { ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { cpuRow, measurePair } from '../lib/measure';
import { body, HISTORY } from '../lib/queries';
import { auth, checkSameJson, statementsOf } from '../lib/requests';
import { PEOPLE, ROOMS } from '../lib/seed';

export async function history(ctx: Context): Promise<Row[]> {
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
