/** Process entry: config, createApp(), listen; SIGTERM/SIGINT stop it cleanly within 10 s. */
import { inspect } from 'node:util';
import { createApp } from './app';
import { ConfigError, loadConfig } from './config';
import { EmbeddedPostgresError } from './db/embedded-postgres';
import { createLogger } from './logger';

const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { format: config.logFormat });
  const app = await createApp({ config, logger });
  logger.info({ url: app.url, production: config.production }, `chat API ready at ${app.url}`);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.stop().then(
      () => process.exit(0),
      (error) => {
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
