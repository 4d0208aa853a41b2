/** inbox: `rooms(pageSize: 10 | 50)` of 10 inbox readers; the statements per request must not grow with the page. */
import type { Lane } from '../load/http-load';
import type { Context, Row } from '../lib/context';
import { ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { cpuRow, measurePair } from '../lib/measure';
import { body, INBOX } from '../lib/queries';
import { auth, checkSameJson, statementsOf } from '../lib/requests';
import { PEOPLE } from '../lib/seed';

export async function inbox(ctx: Context): Promise<Row[]> {
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
