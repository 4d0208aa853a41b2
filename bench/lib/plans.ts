/** The plans PostgreSQL runs for statements our server sent (captured by servers/chat-server.ts). */
import { Client } from 'pg';

/** EXPLAIN (ANALYZE, BUFFERS) of a captured statement with its parameters (PostgreSQL plans it for these values). */
export async function explainCustom(db: Client, text: string, parameters: unknown[]): Promise<string> {
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
export async function explainPrepared(dbUrl: string, text: string, parameters: unknown[], before: unknown[][] = []): Promise<{ auto: string; generic: string }> {
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

export const executionMs = (plan: string) => /Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? '?';

/**
 * A generic plan shows the statement's parameters ($1...$6: every search statement has six) in its
 * conditions where a custom plan shows the values; higher numbers are InitPlan results, in both.
 */
export const isGeneric = (plan: string) => plan.split('\n').some((l) => /(Index Cond|Recheck Cond|Filter|Join Filter|Hash Cond):.*\$[1-6]\b/.test(l));

/** The statements captured on our server, grouped by their first 100 characters, most frequent first. */
export function groupStatements(captured: { query: string }[]): string[] {
  const groups = new Map<string, number>();
  for (const { query } of captured) {
    const key = query.replace(/\s+/g, ' ').trim().slice(0, 100);
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${String(v).padStart(6)}  ${k}`);
}
