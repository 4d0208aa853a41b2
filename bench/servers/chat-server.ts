/**
 * Our server, as production runs it (NODE_ENV=production), in a process of its own.
 * Bench-only instrumentation, from outside src/: every statement the database layer
 * sends is counted (and captured on demand), and the moment each messageAdded event
 * is published (right after the send's commit) is recorded.
 *
 * BENCH_SRC_ROOT: run the src/ of another checkout instead of this one's (the
 * `scale` scenario's `--before <dir>`: the design before issue 14, bench/before.sh).
 */
import { join } from 'node:path';
import type * as AppModule from '../../src/app';
import type * as ConfigModule from '../../src/config';
import type * as LoggerModule from '../../src/logger';
import { memoryAfterGc, nowMs, serve } from '../lib/common';

// Required, not imported: only the chosen checkout's src/ may load (its decorators register the schema's types).
const root = process.env.BENCH_SRC_ROOT ?? join(__dirname, '..', '..');
const { createApp } = require(join(root, 'src', 'app')) as typeof AppModule;
const { loadConfig } = require(join(root, 'src', 'config')) as typeof ConfigModule;
const { createLogger } = require(join(root, 'src', 'logger')) as typeof LoggerModule;

/** What the event bus carried (src/realtime/event-bus.ts BusStats), and what it holds now. */
export interface BusFigures {
  published: number;
  received: number;
  /** Listener calls (null before issue 14: every event went to every listener, `listeners` of them). */
  dispatched: number | null;
  topics: number | null;
  listeners: number;
}

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
  // BENCH_POOL_MAX: fewer pooled connections than the 20 the server opens at most (the scale scenario runs
  // up to eight servers on one PostgreSQL of max_connections 100); pg's pool reads its max on every checkout.
  const poolMax = Number(process.env.BENCH_POOL_MAX);
  if (poolMax > 0) (pool as unknown as { options: { max: number } }).options.max = poolMax;
  let poolTimer: NodeJS.Timeout | null = null;
  let poolSamples = { n: 0, waiting: 0, withWaiters: 0, maxWaiting: 0 };

  // The bus's counters; a design without them (before issue 14: one channel, every event to every
  // listener) is counted here: every event that arrives on its channel is received.
  const bus = app.bus as unknown as { stats?: { published: number; received: number; dispatched: number }; topicCount?: number; target?: EventTarget };
  const counted = { published: 0, received: 0 };
  if (!bus.stats) bus.target?.addEventListener('chat-events', () => void (counted.received += 1));
  const busFigures = (): BusFigures =>
    bus.stats
      ? { ...bus.stats, topics: bus.topicCount ?? null, listeners: app.bus.listenerCount }
      : { published: counted.published, received: counted.received, dispatched: null, topics: null, listeners: app.bus.listenerCount };

  let published = new Map<string, number>();
  const publish = app.bus.publish.bind(app.bus);
  app.bus.publish = (event) => {
    if (event.kind === 'messageAdded') published.set(event.messageId, nowMs());
    counted.published += 1;
    publish(event);
  };

  serve(
    {
      mem: memoryAfterGc,
      cpu: () => process.cpuUsage(),
      subscribers: () => app.bus.listenerCount,
      bus: busFigures,
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
      published: (msg) => {
        if (msg.keep === false) {
          published = new Map();
          return {};
        }
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
