import type { Logger } from 'pino';

/** A background job run on a timer (event pruning, stale-run reclaim). */
export interface PeriodicJob {
  /** Runs the job now (after any run in progress) and resolves with its count. */
  runNow(): Promise<number>;
  /** Cancels the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export interface PeriodicJobOptions {
  intervalMs: number;
  /** Also run once at start, not only after the first interval. */
  runAtStart: boolean;
  log: Logger;
  /** Logged (with the error) when a run fails; a failed run counts 0 and the timer goes on. */
  failureMessage: string;
  /** One run; resolves with how many rows it handled. */
  task: () => Promise<number>;
}

/**
 * Runs `task` every `intervalMs`, never two runs at once (a tick during a run is absorbed by it).
 * The timer is unref'd so it never keeps the process alive; errors after stop() are not logged,
 * since the pool is usually closing by then.
 */
export function startPeriodicJob(options: PeriodicJobOptions): PeriodicJob {
  let running: Promise<number> | undefined;
  let stopped = false;
  const run = (): Promise<number> => {
    running ??= options
      .task()
      .catch((err: unknown) => {
        if (!stopped) options.log.error({ err }, options.failureMessage);
        return 0;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void run(), options.intervalMs);
  timer.unref();
  if (options.runAtStart) void run();
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
