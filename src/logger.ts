import { pino, type Logger } from 'pino';

/** The pino level names LOG_LEVEL may take (validated again, with a one-line error, by loadConfig). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** LOG_LEVEL, or the default; an unknown value falls back here so loadConfig can report it in one line. */
export function defaultLogLevel(env: NodeJS.ProcessEnv = process.env): string {
  const level = env.LOG_LEVEL;
  if (level && (LOG_LEVELS as readonly string[]).includes(level)) return level;
  return env.CI ? 'warn' : 'info';
}

/** Process-wide structured logger (JSON lines on stderr, so CLI stdout stays scriptable). */
export const logger: Logger = pino({ level: defaultLogLevel(), base: undefined }, pino.destination(2));
