import type { Logger } from 'pino';
import { logger as rootLogger } from '../logger.js';
import type { ChatRow } from './models.js';
import type { Queryable } from './index.js';
import { startPeriodicJob, type PeriodicJob } from './periodicJob.js';

/**
 * Stale runs rule: returns every running chat whose heartbeat is older than `staleSeconds` to pending
 * (worker claim cleared) in one statement, and returns them with the worker that lost each.
 * The old worker's next append is refused and its finish answers `finished: false`.
 */
export function reclaimStaleRuns(db: Queryable, staleSeconds: number): Promise<Array<ChatRow & { previous_worker_id: string | null }>> {
  return db.chats.reclaimStale(staleSeconds);
}

/** Options of the periodic reclaim job. */
export interface StaleRunReclaimerOptions {
  staleSeconds: number;
  /** Time between runs; default a quarter of staleSeconds (1 s .. 60 s), so a dead run waits at most ~1.25× the limit. */
  intervalMs?: number;
  logger?: Logger;
}

/** A running reclaim job; runNow resolves with the number of chats reclaimed. */
export type StaleRunReclaimer = PeriodicJob;

/**
 * Reclaims stale runs periodically; the first run comes after one interval. Every replica may
 * run one: the statement skips rows another transaction holds, so replicas never block or
 * double-reclaim.
 */
export function startStaleRunReclaimer(db: Queryable, options: StaleRunReclaimerOptions): StaleRunReclaimer {
  const log = (options.logger ?? rootLogger).child({ component: 'stale-run-reclaimer' });
  return startPeriodicJob({
    intervalMs: options.intervalMs ?? Math.min(60_000, Math.max(1000, (options.staleSeconds * 1000) / 4)),
    runAtStart: false,
    log,
    failureMessage: 'reclaiming stale runs failed',
    task: async () => {
      const chats = await reclaimStaleRuns(db, options.staleSeconds);
      for (const chat of chats) log.warn({ chatId: chat.id, workerId: chat.previous_worker_id, staleSeconds: options.staleSeconds }, 'reclaimed a stale run');
      return chats.length;
    },
  });
}
