/**
 * Connection faults and the bounded retry of idempotent reads.
 *
 * A read that failed because the connection broke (a terminated backend, a Postgres restart, an
 * unreachable server) can simply run again: it changes nothing. Writes are never retried here:
 * a transaction that lost its connection may or may not have committed, and only the caller can
 * tell (mutations report DATABASE_UNAVAILABLE and leave the decision to the client).
 */

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', // admin_shutdown: pg_terminate_backend, or a fast/smart shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections (transient while a restarted server fills up)
]);

const CONNECTION_MESSAGES = /Connection terminated|connection error and is not queryable|released or lost connection|Client was closed|timeout exceeded when trying to connect|terminating connection|the database system is (starting up|shutting down|in recovery mode)/i;

/** True when `err` says the database could not be reached or the connection broke (not a query error). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return CONNECTION_MESSAGES.test(err.message);
}

/** The database stayed unreachable for the whole retry budget. */
export class DatabaseUnavailableError extends Error {
  constructor(override readonly cause: unknown, readonly waitedMs: number) {
    super(`Database unavailable (retried for ${waitedMs} ms)`);
    this.name = 'DatabaseUnavailableError';
  }
}

/** Bounds of one retried read. */
export interface RetryOptions {
  /** Give up (DatabaseUnavailableError) once this much time has passed since the first try. */
  budgetMs: number;
  /** First delay; it doubles up to maxDelayMs, with jitter. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Stop retrying early (e.g. the subscription ended); the last error is thrown. */
  aborted?: () => boolean;
}

/** Runs an idempotent read; on a connection error runs it again with capped backoff until the budget is spent. */
export async function retryRead<T>(read: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  const min = options.minDelayMs ?? 50;
  const max = options.maxDelayMs ?? 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      const waited = Date.now() - started;
      if (waited >= options.budgetMs || options.aborted?.()) throw new DatabaseUnavailableError(err, waited);
      const cap = Math.min(max, min * 2 ** Math.min(attempt, 16));
      const delay = Math.min(cap / 2 + Math.random() * (cap / 2), Math.max(1, options.budgetMs - waited));
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
    }
  }
}

/** A retry policy bound to a budget: `retry(() => db.x.y())`. */
export type ReadRetry = <T>(read: () => Promise<T>) => Promise<T>;

/** The policy for a budget; 0 means "try once, but still report a connection fault as DatabaseUnavailableError". */
export function readRetry(budgetMs: number): ReadRetry {
  return (read) => retryRead(read, { budgetMs });
}
