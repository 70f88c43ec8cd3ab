import type { Logger } from 'pino';
import { logger as rootLogger } from '../logger.js';
import type { Queryable } from './index.js';

const DAY_MS = 86_400_000;

/** Deletes settled events older than `retentionDays`, in batches so no single statement runs long; returns the count. */
export async function pruneEvents(db: Queryable, retentionDays: number, options: { batchSize?: number; now?: Date } = {}): Promise<number> {
  const batchSize = options.batchSize ?? 5000;
  const before = new Date((options.now ?? new Date()).getTime() - retentionDays * DAY_MS);
  let total = 0;
  for (;;) {
    const deleted = await db.events.pruneBatch(before, batchSize);
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
export interface EventPruner {
  /** Runs a prune now (after any run in progress) and resolves with its count. */
  runNow(): Promise<number>;
  /** Cancels the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Prunes `chat_events` periodically. Every replica may run one: deletes of the same rows simply
 * serialise, and the watermark only moves up.
 */
export function startEventPruner(db: Queryable, options: EventPrunerOptions): EventPruner {
  const log = (options.logger ?? rootLogger).child({ component: 'event-pruner' });
  let running: Promise<number> | undefined;
  let stopped = false;
  const run = (): Promise<number> => {
    running ??= pruneEvents(db, options.retentionDays, { batchSize: options.batchSize })
      .then(
        (deleted) => {
          if (deleted > 0) log.info({ deleted, retentionDays: options.retentionDays }, 'pruned chat events');
          return deleted;
        },
        (err: unknown) => {
          if (!stopped) log.error({ err }, 'pruning chat events failed');
          return 0;
        },
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void run(), options.intervalMs ?? 3_600_000);
  timer.unref();
  void run();
  return {
    async runNow() {
      await running;
      return run();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
