/**
 * Our server, as production runs it (NODE_ENV=production), in a process of its own.
 * Bench-only instrumentation, from outside src/: every statement the database layer
 * sends is counted (and captured on demand), and the moment each messageAdded event
 * is published (right after the send's commit) is recorded.
 */
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { memoryAfterGc, nowMs, serve } from '../lib/common';

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, NODE_ENV: 'production', PORT: '0' });
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent');
  // reportStatements stays off, as in production (it turns on AsyncLocalStorage for every request);
  // statements are counted by the database layer's own counter instead.
  const app = await createApp({ config, logger });

  let capturing = false;
  let captured: { query: string; parameters: unknown }[] = [];
  app.db.observer = (query, parameters) => {
    if (capturing && captured.length < 100_000) captured.push({ query, parameters });
  };

  // The pool's queue, sampled every 10 ms while asked: requests waiting for one of its connections.
  const pool = (app.db as unknown as { pool: { waitingCount: number; totalCount: number; idleCount: number } }).pool;
  let poolTimer: NodeJS.Timeout | null = null;
  let poolSamples = { n: 0, waiting: 0, withWaiters: 0, maxWaiting: 0 };

  let published = new Map<string, number>();
  const publish = app.bus.publish.bind(app.bus);
  app.bus.publish = (event) => {
    if (event.kind === 'messageAdded') published.set(event.messageId, nowMs());
    publish(event);
  };

  serve(
    {
      mem: memoryAfterGc,
      cpu: () => process.cpuUsage(),
      subscribers: () => app.bus.listenerCount,
      statements: () => app.db.statements,
      capture: (msg) => {
        capturing = Boolean(msg.on);
        if (capturing) captured = [];
        return captured.length;
      },
      captured: () => captured,
      /** The pool now: requests waiting for a connection, connections busy. */
      pool: () => ({ waiting: pool.waitingCount, busy: pool.totalCount - pool.idleCount }),
      /** `on`: start sampling the pool's queue; off: stop and answer the samples (mean waiting, share of samples with any). */
      poolQueue: (msg) => {
        if (poolTimer) clearInterval(poolTimer);
        poolTimer = null;
        const s = poolSamples;
        poolSamples = { n: 0, waiting: 0, withWaiters: 0, maxWaiting: 0 };
        if (msg.on) {
          poolTimer = setInterval(() => {
            const w = pool.waitingCount;
            poolSamples.n += 1;
            poolSamples.waiting += w;
            if (w > 0) poolSamples.withWaiters += 1;
            poolSamples.maxWaiting = Math.max(poolSamples.maxWaiting, w);
          }, 10);
        }
        return { samples: s.n, meanWaiting: s.n ? s.waiting / s.n : 0, shareWithWaiters: s.n ? s.withWaiters / s.n : 0, maxWaiting: s.maxWaiting };
      },
      published: () => {
        const result = Object.fromEntries(published);
        published = new Map();
        return result;
      },
    },
    () => app.stop(),
  );
  process.send?.({ type: 'ready', port: app.port, uptimeMs: process.uptime() * 1000 });
}

main().catch((error) => {
  process.stderr.write(`chat server failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
