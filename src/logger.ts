import { pino, type Logger } from 'pino';
import { logLevel } from './config.js';

/**
 * Process-wide structured logger (JSON lines on stderr, so CLI stdout stays scriptable). Modules
 * log from import on, before any Config exists: the level is LOG_LEVEL as src/config.ts reads it.
 */
export const logger: Logger = pino({ level: logLevel(), base: undefined }, pino.destination(2));
