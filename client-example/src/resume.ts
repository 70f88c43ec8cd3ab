import type { SubscriptionForwarder } from '@urql/core';
import type { Client as WsClient, FormattedExecutionResult } from 'graphql-ws';
import { streamKey, type LiveMerge } from './liveMerge.js';

/** Server error codes after which the stream is resumed from its last cursor (docs/subscriptions.md). */
const RESUMABLE = new Set(['UNAVAILABLE', 'STREAM_INTERRUPTED', 'SUBSCRIPTION_OVERFLOW', 'CURSOR_EXPIRED']);

export interface ResumeOptions {
  /** The server pruned events after our cursor: refetch what the page shows (then we resubscribe afresh). */
  onCursorExpired?: (stream: string) => void;
  /** First retry delay; doubles up to 10 s. */
  retryDelayMs?: number;
}

/**
 * urql's `forwardSubscription` over graphql-ws that survives disconnects without missing events:
 * when the socket drops (or the server ends the stream with a resumable error) it subscribes
 * again with `after:` the last cursor the live merge recorded, so the server replays the gap.
 * graphql-ws's own retry would resend the first variables, so the client is created with
 * `retryAttempts: 0` and the retry lives here.
 */
export function resumingSubscriptions(ws: Pick<WsClient, 'subscribe'>, merge: LiveMerge, options: ResumeOptions = {}): SubscriptionForwarder {
  const baseDelay = options.retryDelayMs ?? 250;
  return (request, operation) => ({
    subscribe(sink) {
      const stream = streamKey(operation);
      let active = true;
      let attempt = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let dispose = () => {};

      const retry = () => {
        if (!active) return;
        timer = setTimeout(start, Math.min(10_000, baseDelay * 2 ** attempt++));
      };
      const start = () => {
        const after = merge.cursor(stream);
        const variables = { ...request.variables, ...(after ? { after } : {}) };
        let resume = false;
        dispose = ws.subscribe({ ...request, query: request.query ?? '', variables }, {
          next(result: FormattedExecutionResult) {
            const code = result.errors?.[0]?.extensions?.code;
            if (typeof code === 'string' && RESUMABLE.has(code)) {
              if (code === 'CURSOR_EXPIRED') {
                merge.forget(stream);
                options.onCursorExpired?.(stream);
              }
              resume = true;
              return;
            }
            attempt = 0;
            sink.next(result as Parameters<typeof sink.next>[0]);
          },
          error() {
            retry();
          },
          complete() {
            if (resume) retry();
            else if (active) sink.complete();
          },
        });
      };
      start();
      return {
        unsubscribe() {
          active = false;
          clearTimeout(timer);
          dispose();
        },
      };
    },
  });
}
