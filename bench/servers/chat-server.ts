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
