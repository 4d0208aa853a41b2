/**
 * search: `searchMessages` for a common word and a rare one, ours against the
 * baseline's one statement; the plans of the statement our server sent; then
 * issue 17's queries on our server alone, each beside the common word's p50.
 */
import { Client } from 'pg';
import type { Lane, LoadSpec } from '../load/http-load';
import { type Context, type Row, writeResult } from '../lib/context';
import { fmt, ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { cpuRow, type Measured, measurePair, runTimed, summarize, type TimedRun } from '../lib/measure';
import { executionMs, explainCustom, explainPrepared, isGeneric } from '../lib/plans';
import { body, SEARCH } from '../lib/queries';
import { auth, checkSameJson, statementsOf } from '../lib/requests';
import { PEOPLE, SEARCH_RARE_WORDS, SEARCH_WORDS } from '../lib/seed';

/** search: users 0..3 (each in HIST, DEEP and 60 inbox rooms), one connection each. */
const SEARCH_LANES = 4;

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
  for (const l of sets) await ctx.http.call('run', { spec: spec(l, ctx.size.warmupSec) });
  const runs = sets.map(() => [] as TimedRun[]);
  for (let i = 0; i < ctx.size.repeats; i++) {
    for (const [k, l] of sets.entries()) runs[k].push(await runTimed(ctx, ctx.ours, spec(l, ctx.size.durationSec)));
  }
  return sets.map((_, k) => summarize(ctx.ours, runs[k], `search/${labels[k]}`));
}

export async function search(ctx: Context): Promise<Row[]> {
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
  writeResult('search-plan.txt', `search plans (${verdicts.join('; ')})\n\n${report.join('\n')}\n`);
  log(`  search plans in bench/results/search-plan.txt: ${verdicts.join('; ')}`);
  return rows;
}

