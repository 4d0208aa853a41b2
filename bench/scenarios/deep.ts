/** deep: the page before the message at depth 900,000 of 1,000,000 against the first page, and the plan of the statement the server sent. */
import { Client } from 'pg';
import type { Lane, LoadResult, LoadSpec } from '../load/http-load';
import { type Context, type Row, writeResult } from '../lib/context';
import { ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { type Measured, summarize } from '../lib/measure';
import { body, HISTORY } from '../lib/queries';
import { auth, statementsOf } from '../lib/requests';
import { PEOPLE, ROOMS } from '../lib/seed';

/** The deep page is the one before the message at this share of the room's history, counted from its newest. */
const DEPTH_SHARE = 0.9;

/** Like measurePair, on our server, for two request sets (the first page and the deep one) alternating like two targets. */
async function measurePairOfLanes(ctx: Context, sets: Lane[][], labels: string[]): Promise<Measured[]> {
  const spec = (lanes: Lane[], durationSec: number): LoadSpec => ({ url: ctx.ours.url, lanes, durationSec });
  for (const l of sets) await ctx.http.call('run', { spec: spec(l, ctx.size.warmupSec) });
  const runs = sets.map(() => [] as LoadResult[]);
  for (let i = 0; i < ctx.size.repeats; i++) {
    for (const [k, l] of sets.entries()) runs[k].push(await ctx.http.call<LoadResult>('run', { spec: spec(l, ctx.size.durationSec) }));
  }
  return sets.map((_, k) => summarize(ctx.ours, runs[k], `deep ${labels[k]}`));
}

export async function deep(ctx: Context): Promise<Row[]> {
  const total = ctx.size.deepMessages;
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
    writeResult('deep-plan.txt', `${page?.query ?? ''}\n\nparameters: ${JSON.stringify(page?.parameters)}\n\n${planText}\n`);
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
