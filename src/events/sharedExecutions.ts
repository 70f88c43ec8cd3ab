/**
 * Shared executions: multicasts identical subscriptions (one execution per event, many sockets).
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
 *
 * Generic in the result type R so that nothing here knows GraphQL: the server computes the key
 * (viewer + printed document + variables) and says how an overflow or a failed source reads.
 */

/** How results of a failed or overflowing stream are written for its subscribers. */
export interface SharedExecutionResults<R> {
  /** The last result of a subscriber that fell `maxPending` results behind. */
  overflow(): R;
  /** The last result of every subscriber when the source throws. */
  failed(err: unknown): R;
}

export class SharedExecutions<R> {
  private readonly streams = new Map<string, SharedStream<R>>();

  constructor(private readonly results: SharedExecutionResults<R>, private readonly maxPending = 1000) {}

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

  /**
   * Joins the stream for `key`, starting it with `start()` when there is none. A start that
   * answers with a plain result (an error before the stream began) is returned as is.
   */
  async subscribe(
    key: string,
    start: () => Promise<AsyncIterableIterator<R> | R>,
  ): Promise<AsyncIterableIterator<R> | R> {
    let stream = this.streams.get(key);
    if (!stream) {
      const source = await start();
      if (!isAsyncIterable<R>(source)) return source;
      // Another identical subscribe may have started a stream while we awaited: join that one.
      stream = this.streams.get(key);
      if (stream) {
        void source.return?.();
      } else {
        stream = new SharedStream<R>(source, this.results, this.maxPending, () => this.streams.delete(key));
        this.streams.set(key, stream);
      }
    }
    return stream.join();
  }
}

function isAsyncIterable<R>(value: unknown): value is AsyncIterableIterator<R> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

interface Subscriber<R> {
  queue: R[];
  wake: (() => void) | null;
  done: boolean;
}

class SharedStream<R> {
  private readonly subscribers = new Set<Subscriber<R>>();
  private closed = false;

  constructor(
    private readonly source: AsyncIterableIterator<R>,
    private readonly results: SharedExecutionResults<R>,
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
            sub.queue.push(this.results.overflow());
            this.finish(sub);
            continue;
          }
          sub.queue.push(result);
          sub.wake?.();
        }
      }
    } catch (err) {
      const last = this.results.failed(err);
      for (const sub of this.subscribers) sub.queue.push(last);
    }
    for (const sub of [...this.subscribers]) this.finish(sub);
    this.close();
  }

  private finish(sub: Subscriber<R>): void {
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

  join(): AsyncIterableIterator<R> {
    const sub: Subscriber<R> = { queue: [], wake: null, done: false };
    this.subscribers.add(sub);
    const leave = () => {
      this.finish(sub);
      if (this.subscribers.size === 0) this.close();
    };
    const iterator: AsyncIterableIterator<R> = {
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
