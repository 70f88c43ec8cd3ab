import { pino, type Logger } from 'pino';

/** Process-wide structured logger (JSON lines on stderr, so CLI stdout stays scriptable). */
export const logger: Logger = pino(
  { level: process.env.LOG_LEVEL || (process.env.CI ? 'warn' : 'info'), base: undefined },
  pino.destination(2),
);
