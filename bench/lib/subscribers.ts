/** Idle messageAdded subscribers on a server, from the socket load process (load/ws-load.ts). */
import type { Context, Target } from './context';
import { log } from './log';
import { ON_MESSAGE } from './queries';
import { waitUntil } from './wait';

/** Connects `subs` as subscribers of messageAdded, one socket each, and waits until the server holds them all. */
export async function subscribe(ctx: Context, target: Target, group: string, subs: { user: number; roomId: string }[]): Promise<{ connected: number; ms: number }> {
  const base = await target.worker.call<number>('subscribers');
  const t = Date.now();
  const r = await ctx.ws.call<{ connected: number; failed: number; ms: number; lastError: string }>(
    'connect',
    {
      group,
      url: target.wsUrl,
      query: ON_MESSAGE,
      subs: subs.map((s) => ({ token: ctx.tokens.get(s.user), variables: { roomId: s.roomId } })),
      concurrency: 100,
      timeoutMs: 180_000,
    },
    200_000,
  );
  if (r.failed) log(`  warning: ${r.failed} of ${subs.length} sockets failed (${r.lastError})`);
  await waitUntil(`${subs.length} subscriptions on ${target.name}`, async () => (await target.worker.call<number>('subscribers')) >= base + r.connected, 60_000);
  return { connected: r.connected, ms: Date.now() - t };
}

/** Closes the group's sockets and waits until the server holds no subscription. */
export async function unsubscribe(ctx: Context, target: Target, group: string): Promise<void> {
  await ctx.ws.call('close', { group }, 120_000);
  await waitUntil(`subscriptions on ${target.name} to end`, async () => (await target.worker.call<number>('subscribers')) === 0, 30_000);
}
