import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config.js';
import { RateLimitedError } from '../resolvers/errors.js';

/** What a limiter counts, as it is named in errors ("Too many sends"). */
export type RateLimitKind = 'sends' | 'toolResults' | 'appends' | 'publishes' | 'failedAuth';

const WHAT: Record<RateLimitKind, string> = {
  sends: 'messages sent',
  toolResults: 'tool results submitted',
  appends: 'messages appended',
  publishes: 'message parts published',
  failedAuth: 'failed authentications from this address',
};

/**
 * The process's rate limiters (rate-limiter-flexible, in memory: each replica limits on its
 * own, so N replicas allow N times the rate). Per user: sends (createChat, sendChatMessage,
 * editChatMessage), submitted tool results (one point per result), appended worker messages
 * (one point per message), published message parts; per client address: failed
 * authentications. A limiter set to 0 is off.
 */
export class RateLimits {
  private readonly limiters: Partial<Record<RateLimitKind, RateLimiterMemory>> = {};

  constructor(config: Pick<Config, 'rateSendsPerMinute' | 'rateToolResultsPerMinute' | 'rateAppendsPerMinute' | 'ratePublishesPerSecond' | 'rateFailedAuthPerMinute'>) {
    const make = (kind: RateLimitKind, points: number, duration: number) => {
      if (points > 0) this.limiters[kind] = new RateLimiterMemory({ keyPrefix: kind, points, duration });
    };
    make('sends', config.rateSendsPerMinute, 60);
    make('toolResults', config.rateToolResultsPerMinute, 60);
    make('appends', config.rateAppendsPerMinute, 60);
    make('publishes', config.ratePublishesPerSecond, 1);
    make('failedAuth', config.rateFailedAuthPerMinute, 60);
  }

  /** Takes `points` for `key`; throws RateLimitedError (with a retry hint) when the limit is hit. */
  async take(kind: RateLimitKind, key: string, points = 1): Promise<void> {
    const limiter = this.limiters[kind];
    if (!limiter) return;
    try {
      await limiter.consume(key, points);
    } catch (res) {
      if (res instanceof RateLimiterRes) throw new RateLimitedError(WHAT[kind], Math.max(1, Math.ceil(res.msBeforeNext / 1000)));
      throw res;
    }
  }

  /** Seconds until `key` may try again once it has used up its points, else null (does not take a point). */
  async blockedFor(kind: RateLimitKind, key: string): Promise<number | null> {
    const limiter = this.limiters[kind];
    if (!limiter) return null;
    const res = await limiter.get(key);
    if (!res || res.consumedPoints < limiter.points) return null;
    return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
  }

  /** Records a failure for `key` (a failed authentication); never throws. */
  async penalize(kind: RateLimitKind, key: string): Promise<void> {
    const limiter = this.limiters[kind];
    if (limiter) await limiter.penalty(key, 1).catch(() => undefined);
  }
}
