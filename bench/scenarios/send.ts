/** send: `sendMessage` with a fresh clientId per request, 20 users into 20 rooms. */
import type { Lane } from '../load/http-load';
import type { Context, Row, Target } from '../lib/context';
import { ratio, round } from '../lib/figures';
import { log } from '../lib/log';
import { cpuRow, measurePair } from '../lib/measure';
import { sendBody } from '../lib/queries';
import { auth, statementsOf } from '../lib/requests';
import { PEOPLE } from '../lib/seed';

export async function send(ctx: Context): Promise<Row[]> {
  const lanes = (): Lane[] => PEOPLE.send.map((u, j) => ({ headers: auth(ctx, u), requests: [{ body: sendBody(j), uniqueClientId: true }] }));
  const [ours, base] = await measurePair(ctx, [ctx.ours, ctx.baseline], lanes, 'send');
  const one = (target: Target) => statementsOf(target, ctx.tokens.get(PEOPLE.send[0]) as string, sendBody(0).replace('__CLIENT_ID__', `probe-${target.name}-${Date.now()}`));
  const s = await one(ctx.ours);
  const b = await one(ctx.baseline);
  log(`  send statements per message: ours ${s.statements}, baseline ${b.statements}`);
  return [
    { scenario: 'send', metric: 'req/s, 20 senders into 20 rooms', ours: round(ours.rps, 1), baseline: round(base.rps, 1), ratio: ratio(ours.rps, base.rps), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    { scenario: 'send', metric: 'p99 latency ms (baseline: its p99)', ours: round(ours.p99), baseline: round(base.p99), ratio: ratio(ours.p99, base.p99), p50: round(ours.p50), p99: round(ours.p99), statements: s.statements },
    cpuRow('send', ours, base, s.statements),
  ];
}

