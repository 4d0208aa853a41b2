/**
 * changes: a page of `changes(since, limit: 200)` by 4 inbox readers from one
 * cursor while writers send and edit in their rooms; the plans of the page's
 * statements.
 */
import { Client } from 'pg';
import { CursorCodec } from '../../src/chat/changes/cursor';
import type { Lane } from '../load/http-load';
import { type Context, type Row, writeResult } from '../lib/context';
import { fmt, ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { cpuRow, type Measured, measurePair } from '../lib/measure';
import { executionMs, explainCustom, explainPrepared, isGeneric } from '../lib/plans';
import { body, CHANGES, EDIT, SEND } from '../lib/queries';
import { auth, checkSameJson, post, statementsOf } from '../lib/requests';
import { PEOPLE, range, ROOMS } from '../lib/seed';
import { paced } from '../lib/wait';

/** changes: inbox readers 10..13 page from the same cursor, one connection each... */
const CHANGES_LANES = 4;
const CHANGES_LIMIT = 200;
/** ...while users 0..2 each send a message into an inbox room and edit it, this many times a second. */
const CHANGES_WRITERS = 3;
const CHANGES_WRITES_PER_SEC = 5;

export async function changes(ctx: Context): Promise<Row[]> {
  // Positions lead with the writing transaction: from transaction 0 the page starts at the seed's oldest change.
  const since = new CursorCodec(ctx.jwtSecret).encode({ xid: '0', version: ctx.seeded.changesSince, floor: '0' });
  const text = body(CHANGES, 'Changes', { since, limit: CHANGES_LIMIT });
  const readers = PEOPLE.inbox.slice(0, CHANGES_LANES);
  const token = ctx.tokens.get(readers[0]) as string;
  await checkSameJson(ctx, token, text, 'changes page');
  const page = (await post(ctx.ours.url, token, text)).data.changes;
  const shape = `${page.messages.length} messages + ${page.memberships.length} memberships${page.hasMore ? ', hasMore' : ''}`;
  log(`  changes page from version ${ctx.seeded.changesSince}: ${shape}`);
  // Writers: users 0..2 send into inbox rooms 0..2 (rooms of the readers) and edit what they sent,
  // through our server, during the warm-ups and the runs of both sides (their versions land after the page).
  let sent = 0;
  const writers = range(0, CHANGES_WRITERS).map((j) =>
    paced(
      CHANGES_WRITES_PER_SEC,
      async (n) => {
        const token = ctx.tokens.get(j) as string;
        const m = await post(ctx.ours.url, token, body(SEND, 'Send', { input: { roomId: ROOMS.inbox(j), content: `changes writer ${j} message ${n}`, clientId: `changes-${j}-${Date.now()}-${n}` } }));
        sent += 1;
        await post(ctx.ours.url, token, body(EDIT, 'Edit', { id: m.data.sendMessage.id, content: `changes writer ${j} message ${n}, edited` }));
      },
      (j * 1000) / CHANGES_WRITES_PER_SEC / CHANGES_WRITERS,
    ),
  );
  let ours: Measured;
  let base: Measured;
  try {
    const lanes = (): Lane[] => readers.map((u) => ({ headers: auth(ctx, u), requests: [{ body: text }] }));
    [ours, base] = await measurePair(ctx, [ctx.ours, ctx.baseline], lanes, 'changes');
  } finally {
    const done = await Promise.all(writers.map((w) => w.stop()));
    const pairs = done.reduce((n, d) => n + d.done, 0);
    const failed = done.reduce((n, d) => n + d.failed, 0);
    const seconds = Math.max(...done.map((d) => d.seconds));
    log(`  changes writers: ${sent} sends and ${pairs} edits in ${fmt(seconds)} s (${fmt((sent + pairs) / seconds)} writes/s)${failed ? `; ${failed} failed (${done.find((d) => d.failed)?.lastError})` : ''}`);
  }
  await checkSameJson(ctx, token, text, 'changes page after the writers');
  await ctx.ours.worker.call('capture', { on: true });
  const s = await statementsOf(ctx.ours, token, text);
  await ctx.ours.worker.call('capture', { on: false });
  await changesPlans(ctx, await ctx.ours.worker.call<{ query: string; parameters: unknown[] }[]>('captured'));
  const b = await statementsOf(ctx.baseline, token, text);
  log(`  changes statements per page: ours ${s.statements}, baseline ${b.statements}`);
  const label = `${CHANGES_LIMIT}-change page (${shape}), ${readers.length} connections, ${CHANGES_WRITERS} writers`;
  return [
    { scenario: 'changes', metric: `req/s, ${label}`, ours: round(ours.rps, 1), baseline: round(base.rps, 1), ratio: ratio(ours.rps, base.rps), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    { scenario: 'changes', metric: 'p50 latency ms (baseline: its p50)', ours: round(ours.p50), baseline: round(base.p50), ratio: ratio(ours.p50, base.p50), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    { scenario: 'changes', metric: 'p99 latency ms (baseline: its p99)', ours: round(ours.p99), baseline: round(base.p99), ratio: ratio(ours.p99, base.p99), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    cpuRow('changes', ours, base, s.statements, ' (ours includes the writers)'),
  ];
}

/** The plans of the statements of one changes page (with their values, and prepared as our pool runs them), to bench/results/changes-plan.txt. */
async function changesPlans(ctx: Context, captured: { query: string; parameters: unknown[] }[]): Promise<void> {
  const db = new Client({ connectionString: ctx.dbUrl });
  await db.connect();
  const report: string[] = [];
  try {
    for (const [i, statement] of captured.entries()) {
      const name = `statement ${i + 1} of ${captured.length}: ${statement.query.replace(/\s+/g, ' ').trim().slice(0, 70)}`;
      try {
        const custom = await explainCustom(db, statement.query, statement.parameters);
        const prepared = await explainPrepared(ctx.dbUrl, statement.query, statement.parameters);
        const line = `with its values ${executionMs(custom)} ms; prepared, 6th execution: ${isGeneric(prepared.auto) ? 'generic' : 'custom'} plan, ${executionMs(prepared.auto)} ms; generic forced ${executionMs(prepared.generic)} ms`;
        log(`  changes ${name}: ${line}`);
        report.push(`=== ${name}`, line, '', statement.query, '', `parameters: ${JSON.stringify(statement.parameters)}`, '', '--- EXPLAIN (ANALYZE, BUFFERS) with the values', custom, '', '--- prepared, 6th execution (plan_cache_mode auto)', prepared.auto, '', '--- generic plan forced', prepared.generic, '');
      } catch (error) {
        report.push(`=== ${name}`, `could not explain: ${(error as Error).message}`, '');
      }
    }
  } finally {
    await db.end();
  }
  writeResult('changes-plan.txt', `${report.join('\n')}\n`);
}
