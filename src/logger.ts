import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout; `level` is LOG_LEVEL. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'chat-api' } });
}
