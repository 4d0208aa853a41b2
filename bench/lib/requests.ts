/** Requests to the servers under test, outside a load run: one at a time, checked. */
import type { Context, Target } from './context';
import { log } from './log';

/** The Authorization header of seeded user `user` (its token signed for this run). */
export const auth = (ctx: Context, user: number) => ({ authorization: `Bearer ${ctx.tokens.get(user)}` });

/** POSTs a GraphQL body; throws unless the answer is 200 without errors. */
export async function post(url: string, token: string, text: string): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: text });
  const json = (await res.json()) as any;
  if (res.status !== 200 || json.errors?.length) throw new Error(`request failed (${res.status}): ${JSON.stringify(json).slice(0, 500)}`);
  return json;
}

/** Statements one request costs, counted by the server (ours: its database layer's counter; baseline: its pool). */
export async function statementsOf(target: Target, token: string, text: string): Promise<{ statements: number; json: any }> {
  const before = await target.worker.call<number>('statements');
  const json = await post(target.url, token, text);
  const after = await target.worker.call<number>('statements');
  const reported = json.extensions?.sqlStatements;
  return { statements: typeof reported === 'number' ? reported : after - before, json };
}

/** null when both serialise alike; otherwise where they first differ, with some context. */
function sameJson(a: unknown, b: unknown): string | null {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x === y) return null;
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  return `differs at ${i}: ours …${x.slice(Math.max(0, i - 60), i + 60)}… baseline …${y.slice(Math.max(0, i - 60), i + 60)}…`;
}

/** Asks both servers the same request and logs whether the baseline answered the same data. */
export async function checkSameJson(ctx: Context, token: string, text: string, what: string): Promise<void> {
  const ours = (await post(ctx.ours.url, token, text)).data;
  const base = (await post(ctx.baseline.url, token, text)).data;
  const diff = sameJson(ours, base);
  log(`  ${what}: baseline answers the same JSON: ${diff === null ? 'yes' : `NO, ${diff}`}`);
}
