/** memory: heap and RSS growth per idle authenticated subscriber, and the time to connect them. */
import { sleep } from '../lib/common';
import type { Context, Row, Target } from '../lib/context';
import { fmt, ratio } from '../lib/figures';
import { log } from '../lib/log';
import { PEOPLE, ROOMS } from '../lib/seed';
import { subscribe, unsubscribe } from '../lib/subscribers';

async function memoryOn(ctx: Context, target: Target, sockets: number): Promise<{ heap: number; rss: number; ms: number }> {
  const before = await target.worker.call<NodeJS.MemoryUsage>('mem');
  const subs = Array.from({ length: sockets }, (_, i) => ({ user: PEOPLE.socketBase + i, roomId: ROOMS.memory }));
  const c = await subscribe(ctx, target, 'memory', subs);
  try {
    await sleep(1000);
    const after = await target.worker.call<NodeJS.MemoryUsage>('mem');
    const heap = (after.heapUsed - before.heapUsed) / c.connected;
    const rss = (after.rss - before.rss) / c.connected;
    log(`  memory ${target.name}: ${c.connected} idle subscribers (connected in ${c.ms} ms): heap +${fmt(heap, 0)} B/socket, RSS +${fmt(rss, 0)} B/socket (heap ${fmt(before.heapUsed / 2 ** 20)} -> ${fmt(after.heapUsed / 2 ** 20)} MiB, RSS ${fmt(before.rss / 2 ** 20)} -> ${fmt(after.rss / 2 ** 20)} MiB)`);
    return { heap, rss, ms: c.ms };
  } finally {
    await unsubscribe(ctx, target, 'memory');
  }
}

export async function memory(ctx: Context): Promise<Row[]> {
  const n = ctx.size.memorySockets;
  const ours = await memoryOn(ctx, ctx.ours, n);
  const base = await memoryOn(ctx, ctx.baseline, n);
  return [
    { scenario: 'memory', metric: `heap bytes per idle subscriber (${n} sockets)`, ours: Math.round(ours.heap), baseline: Math.round(base.heap), ratio: ratio(ours.heap, base.heap), p50: null, p99: null, statements: null },
    { scenario: 'memory', metric: `RSS bytes per idle subscriber (${n} sockets)`, ours: Math.round(ours.rss), baseline: Math.round(base.rss), ratio: ratio(ours.rss, base.rss), p50: null, p99: null, statements: null },
    { scenario: 'memory', metric: `ms to connect and subscribe ${n} sockets`, ours: ours.ms, baseline: base.ms, ratio: ratio(ours.ms, base.ms), p50: null, p99: null, statements: null },
  ];
}
