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
 * the source is closed.
 *
 * Backpressure, bounded in time: the source is pulled only while every subscriber holds fewer
 * than `highWater` results, so a burst (the backlog after an outage) is delivered at the pace
 * of the slowest socket with bounded memory; nothing is lost meanwhile, since the hub below
 * catches up from the log. A subscriber that stays full for `stallMs` is a slow consumer: it is
 * ended and its `onSlow` is called (the server closes its socket with the slow-consumer code,
 * and the client resumes from its cursor), so one stuck socket delays the others at most that long.
 *
 * Generic in the result type R so that nothing here knows GraphQL: the server computes the key
 * (viewer + printed document + variables) and says how a failed source reads.
 */

/** How the last result of a failed stream is written for its subscribers. */
export interface SharedExecutionResults<R> {
  /** The last result of every subscriber when the source throws. */
  failed(err: unknown): R;
}

export class SharedExecutions<R> {
  private readonly streams = new Map<string, SharedStream<R>>();

  constructor(private readonly results: SharedExecutionResults<R>, private readonly options: { highWater?: number; stallMs?: number } = {}) {}

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
    onSlow: () => void = () => undefined,
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
        stream = new SharedStream<R>(source, this.results, this.options.highWater ?? 64, this.options.stallMs ?? 10_000, () => this.streams.delete(key));
        this.streams.set(key, stream);
      }
    }
    return stream.join(onSlow);
  }
}

function isAsyncIterable<R>(value: unknown): value is AsyncIterableIterator<R> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

interface Subscriber<R> {
  queue: R[];
  onSlow: () => void;
  wake: (() => void) | null;
  done: boolean;
}

class SharedStream<R> {
  private readonly subscribers = new Set<Subscriber<R>>();
  private closed = false;
  /** Resolves the pump's wait for room (set while some subscriber holds highWater results). */
  private room: (() => void) | null = null;

  constructor(
    private readonly source: AsyncIterableIterator<R>,
    private readonly results: SharedExecutionResults<R>,
    private readonly highWater: number,
    private readonly stallMs: number,
    private readonly onClose: () => void,
  ) {
    void this.pump();
  }

  get size(): number {
    return this.subscribers.size;
  }

  private full(): boolean {
    for (const sub of this.subscribers) if (sub.queue.length >= this.highWater) return true;
    return false;
  }

  /** Ends every subscriber that is still full after the stall time (slow consumers). */
  private dropSlow(): void {
    for (const sub of [...this.subscribers]) {
      if (sub.queue.length < this.highWater) continue;
      sub.queue.length = 0;
      this.finish(sub);
      try {
        sub.onSlow();
      } catch {
        // closing an already closed socket
      }
    }
    if (this.subscribers.size === 0) this.close();
  }

  /** Called when a subscriber took a result or left: lets a waiting pump go on. */
  private freed(): void {
    if (this.room && !this.full()) {
      const go = this.room;
      this.room = null;
      go();
    }
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        while (this.full() && !this.closed) {
          let timer: NodeJS.Timeout | undefined;
          const stalled = await new Promise<boolean>((resolve) => {
            this.room = () => resolve(false);
            timer = setTimeout(() => resolve(true), this.stallMs);
          });
          clearTimeout(timer);
          this.room = null;
          if (stalled) this.dropSlow();
        }
        if (this.closed) return;
        const next = await this.source.next();
        if (next.done) break;
        for (const sub of this.subscribers) {
          sub.queue.push(next.value);
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
    this.freed();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.room?.();
    this.onClose();
    void this.source.return?.();
  }

  join(onSlow: () => void): AsyncIterableIterator<R> {
    const sub: Subscriber<R> = { queue: [], onSlow, wake: null, done: false };
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
        this.freed();
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
