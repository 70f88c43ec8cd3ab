import { GraphQLError, print, type DocumentNode, type ExecutionResult } from 'graphql';

/**
 * Multicasts identical graphql-ws subscriptions.
 *
 * Executing a subscription event costs the same for every subscriber that runs the same
 * operation as the same viewer: same document, variables and viewer mean the same result. A
 * dashboard opened by many tabs, or many clients of one service account, would otherwise repeat
 * that execution per subscriber (the fan-out bench measured ~100 µs per delivery, 0.5 s of CPU
 * per event at 5,000 subscribers). Here the first subscriber's stream is the source and every
 * later identical one joins it, so an event is executed once per distinct (operation, viewer)
 * and only serialised per socket.
 *
 * Semantics are unchanged for clients: a joiner receives the events that arrive after it joined
 * (exactly what a fresh subscription without `after` receives; with `after` the cursor is part
 * of the variables, so a replaying subscriber never shares). When the last subscriber leaves,
 * the source is closed. A subscriber that falls `maxPending` results behind is ended with an
 * error instead of buffering without bound.
 */
export class SharedSubscriptions {
  private readonly streams = new Map<string, SharedStream>();

  constructor(private readonly maxPending = 1000) {}

  /** Client subscriptions currently attached (each one a graphql-ws operation). */
  get subscriberCount(): number {
    let n = 0;
    for (const stream of this.streams.values()) n += stream.size;
    return n;
  }

  /** Distinct source streams (each holds one subscription on the event hub). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Key of an operation for a viewer; null when it must not be shared. */
  static key(args: { document: DocumentNode; variableValues?: unknown; operationName?: string | null }, viewer: string | null): string | null {
    if (viewer === null) return null;
    return JSON.stringify([viewer, args.operationName ?? null, args.variableValues ?? null, print(args.document)]);
  }

  /**
   * Joins the stream for `key`, starting it with `start()` when there is none. A start that
   * answers with a plain result (an error before the stream began) is returned as is.
   */
  async subscribe(
    key: string,
    start: () => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult>,
  ): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    let stream = this.streams.get(key);
    if (!stream) {
      const source = await start();
      if (!isAsyncIterable(source)) return source;
      // Another identical subscribe may have started a stream while we awaited: join that one.
      stream = this.streams.get(key);
      if (stream) {
        void source.return?.();
      } else {
        stream = new SharedStream(source, this.maxPending, () => this.streams.delete(key));
        this.streams.set(key, stream);
      }
    }
    return stream.join();
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterableIterator<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

interface Subscriber {
  queue: ExecutionResult[];
  wake: (() => void) | null;
  done: boolean;
}

class SharedStream {
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;

  constructor(
    private readonly source: AsyncIterableIterator<ExecutionResult>,
    private readonly maxPending: number,
    private readonly onClose: () => void,
  ) {
    void this.pump();
  }

  get size(): number {
    return this.subscribers.size;
  }

  private async pump(): Promise<void> {
    try {
      for await (const result of this.source) {
        for (const sub of this.subscribers) {
          if (sub.queue.length >= this.maxPending) {
            sub.queue.push({ errors: [new GraphQLError('Subscriber fell too far behind; resubscribe', { extensions: { code: 'SUBSCRIPTION_OVERFLOW' } })] });
            this.finish(sub);
            continue;
          }
          sub.queue.push(result);
          sub.wake?.();
        }
      }
    } catch (err) {
      const error = err instanceof GraphQLError ? err : new GraphQLError('Subscription failed', { extensions: { code: 'UNAVAILABLE' } });
      for (const sub of this.subscribers) sub.queue.push({ errors: [error] });
    }
    for (const sub of [...this.subscribers]) this.finish(sub);
    this.close();
  }

  private finish(sub: Subscriber): void {
    sub.done = true;
    this.subscribers.delete(sub);
    sub.wake?.();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    void this.source.return?.();
  }

  join(): AsyncIterableIterator<ExecutionResult> {
    const sub: Subscriber = { queue: [], wake: null, done: false };
    this.subscribers.add(sub);
    const leave = () => {
      this.finish(sub);
      if (this.subscribers.size === 0) this.close();
    };
    const iterator: AsyncIterableIterator<ExecutionResult> = {
      next: async () => {
        while (sub.queue.length === 0 && !sub.done) {
          await new Promise<void>((resolve) => (sub.wake = resolve));
          sub.wake = null;
        }
        const value = sub.queue.shift();
        if (value) return { value, done: false };
        return { value: undefined, done: true };
      },
      return: async () => {
        sub.queue.length = 0;
        leave();
        return { value: undefined, done: true };
      },
      throw: async () => {
        leave();
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
