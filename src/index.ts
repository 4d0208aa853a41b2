/** Process entry: config, createApp(), listen; SIGTERM/SIGINT stop it cleanly within 10 s. */
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from './config';
import { EmbeddedPostgresError } from './db/embedded-postgres';
import { createLogger } from './logger';
import { startTracing } from './telemetry/tracing';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  // Tracing patches pg, ioredis and http as they load: it starts before the app (and they) are loaded.
  const tracing = config.tracing ? startTracing(config.tracing) : null;
  if (config.tracing) logger.info({ endpoint: config.tracing.endpoint, serviceName: config.tracing.serviceName }, 'exporting traces');
  const { createApp } = require('./app') as typeof import('./app');
  const app = await createApp({ config, logger, tracer: tracing?.tracer });
  logger.info({ url: app.url, production: config.production }, `chat API ready at ${app.url}`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app
      .stop()
      .then(() => tracing?.shutdown())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  // A last line of defence: log, never die, for a promise some library left unhandled.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // These two say what was expected, what came and where to look: their stack adds nothing.
  const told = error instanceof ConfigError || error instanceof EmbeddedPostgresError;
  const message = told ? error.message : error instanceof Error ? (error.stack ?? error.message) : inspect(error);
  process.stderr.write(`chat API failed to start: ${message}\n`);
  process.exit(1);
});
