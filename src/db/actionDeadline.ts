import type { Logger } from 'pino';
import { logger as rootLogger } from '../logger.js';
import type { Queryable } from './index.js';
import { startPeriodicJob, type PeriodicJob } from './periodicJob.js';

/** The lastError of a chat whose tool calls were never answered. */
export function toolResultTimeoutMessage(seconds: number): string {
  return `No tool result was submitted within ${seconds} s of the run asking for one (REQUIRES_ACTION); ` +
    'the pending tool calls were abandoned. Send a message to continue the chat.';
}

/**
 * The tool-result deadline: chats that stayed REQUIRES_ACTION (unchanged) for longer than
 * `seconds` go to ERROR with a lastError that says why, in one statement. The queue is held, as
 * for any error, until the user acts.
 */
export function expireUnansweredToolCalls(db: Queryable, seconds: number): Promise<string[]> {
  return db.chats.expireRequiresAction(seconds, toolResultTimeoutMessage(seconds));
}

/** Runs the deadline every `min(60 s, seconds / 4)` (at least 1 s); every replica may run one (SKIP LOCKED). */
export function startToolResultDeadline(db: Queryable, options: { seconds: number; intervalMs?: number; logger?: Logger }): PeriodicJob {
  const log = (options.logger ?? rootLogger).child({ component: 'tool-result-deadline' });
  return startPeriodicJob({
    intervalMs: options.intervalMs ?? Math.min(60_000, Math.max(1000, (options.seconds * 1000) / 4)),
    runAtStart: false,
    log,
    failureMessage: 'expiring unanswered tool calls failed',
    task: async () => {
      const ids = await expireUnansweredToolCalls(db, options.seconds);
      for (const chatId of ids) log.warn({ chatId, seconds: options.seconds }, 'tool calls unanswered past the deadline; chat moved to ERROR');
      return ids.length;
    },
  });
}
