import type { Logger } from 'pino';
import type { Queryable } from '../db/index.js';
import { startPeriodicJob, type PeriodicJob } from '../db/periodicJob.js';
import { logger as rootLogger } from '../logger.js';

/**
 * Retention: `chat_events` keeps a window (EVENT_RETENTION_DAYS); older settled rows are
 * deleted in batches and the highest deleted position is kept as a watermark, so a cursor or a
 * listener position below it is reported as expired (never silently resumed past a gap).
 */

const DAY_MS = 86_400_000;

/** Deletes settled events older than `retentionDays`, in batches so no single statement runs long; returns the count. */
export async function pruneEvents(db: Queryable, retentionDays: number, options: { batchSize?: number; now?: Date } = {}): Promise<number> {
  const batchSize = options.batchSize ?? 5000;
  const before = new Date((options.now ?? new Date()).getTime() - retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    const deleted = await db.eventLog.pruneBatch(before, batchSize);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/** Options of the periodic prune job. */
export interface EventPrunerOptions {
  retentionDays: number;
  /** Time between runs (default one hour); the first run starts at once. */
  intervalMs?: number;
  batchSize?: number;
  logger?: Logger;
}

/** A running prune job. */
export type EventPruner = PeriodicJob;

/**
 * Prunes `chat_events` periodically. Every replica may run one: deletes of the same rows simply
 * serialise, and the watermark only moves up.
 */
export function startEventPruner(db: Queryable, options: EventPrunerOptions): EventPruner {
  const log = (options.logger ?? rootLogger).child({ component: 'event-pruner' });
  return startPeriodicJob({
    intervalMs: options.intervalMs ?? 3_600_000,
    runAtStart: true,
    log,
    failureMessage: 'pruning chat events failed',
    task: async () => {
      const deleted = await pruneEvents(db, options.retentionDays, { batchSize: options.batchSize });
      if (deleted > 0) log.info({ deleted, retentionDays: options.retentionDays }, 'pruned chat events');
      return deleted;
    },
  });
}
