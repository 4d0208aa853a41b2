import pino from 'pino';
import type { LogFormat } from './config';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** `pretty`: pino-pretty's readable lines (development); `json`: one JSON object per line. @default 'json' */
  format?: LogFormat;
  /** Where lines go (tests capture them). @default stdout */
  destination?: NodeJS.WritableStream;
}

type PrettyFactory = (options: Record<string, unknown>) => NodeJS.WritableStream;

/** pino-pretty if it is installed (a production install may leave it out): null otherwise. */
function loadPretty(): PrettyFactory | null {
  try {
    return require('pino-pretty') as PrettyFactory;
  } catch {
    return null;
  }
}

/**
 * Structured logs; `level` is LOG_LEVEL. In `pretty` format each line shows a
 * readable time, the level's name and the message, with the fields beside it
 * on the same line; formatted on the main thread, synchronously, so nothing is
 * lost when the process exits (it is for development). Falls back to JSON when
 * pino-pretty cannot be loaded.
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const settings: pino.LoggerOptions = { level, base: { service: 'chat-api' } };
  if (options.format === 'pretty') {
    const pretty = loadPretty();
    if (pretty) {
      const out = options.destination ?? process.stdout;
      return pino(
        settings,
        pretty({
          destination: out,
          sync: true,
          colorize: out === process.stdout && process.stdout.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,service',
          singleLine: true,
        }) as pino.DestinationStream,
      );
    }
    const logger = options.destination ? pino(settings, options.destination as pino.DestinationStream) : pino(settings);
    logger.warn('LOG_FORMAT=pretty but pino-pretty is not installed: logging JSON');
    return logger;
  }
  return options.destination ? pino(settings, options.destination as pino.DestinationStream) : pino(settings);
}
