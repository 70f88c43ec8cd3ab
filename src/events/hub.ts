import { DatabaseUnavailableError, retryRead, type ReadRetry } from '../db/retry.js';
import { decodeEventCursor, encodeEventCursor, EventCursorExpiredError } from './cursor.js';
import type { EventSource } from './listener.js';
import { recordEventsDelivered } from '../metrics.js';
import {
  comparePositions, positionOf, type EventFilter, type EventPosition, type EventRow, type EventLogRepository,
} from './log.js';

/**
 * Fan-out of the process's event stream (from its one EventListener) to subscriptions.
 *
 * - Each live batch is loaded once (the `load` hook) and the result is shared by every
 *   subscriber whose filter accepts the event; visibility is the per-subscriber filter.
 * - `subscribe({ after })` registers for live events first, then replays (after, L0] from the
 *   log, where L0 is the source position at registration: every event up to L0 is settled, so
 *   the replay sees all of it, and every later event arrives live. Live events that arrive during
 *   the replay are buffered and released after it; a position check drops anything already
 *   delivered. So: no gap, no duplicate.
 * - Replay pages are read when the consumer pulls (a long replay needs no memory up front).
 * - Each subscription holds at most `maxPending` undelivered events in memory (queue plus
 *   replay-time buffer). A consumer that falls further behind (a slow socket, or the backlog an
 *   outage leaves behind) is not dropped: its queue is discarded and it catches up from the log,
 *   one replay page at a time as it pulls, from the last event it consumed. Memory stays bounded
 *   and nothing is lost or repeated.
 * - `return()` unregisters at once, so graphql-ws complete/disconnect frees the subscription.
 * - Database faults are survived, not reported: loads and replay reads are idempotent and are
 *   retried on connection errors (bounded backoff), and the listener reconnects and reads on
 *   from its position, so an outage only delays events. Only when the database stays away
 *   longer than `outageBoundMs` (LISTEN connection down, or a read still failing) does a
 *   subscription end, with EventStreamInterruptedError carrying its last consumed cursor.
 */

/** One delivered event: its opaque cursor, the log row, and what `load` made of it. */
export interface HubEvent<T> {
  cursor: string;
  event: EventRow;
  data: T;
}

/** Loads data for events once per process; returns one result per event, in order. */
export type EventLoader<T> = (events: readonly EventRow[]) => Promise<readonly T[]>;

/** Construction options of an EventHub. */
export interface EventHubOptions<T> {
  source: EventSource;
  /** Where replays read from (`db.eventLog`). */
  log: Pick<EventLogRepository, 'fetchSettled'>;
  /** Default: the event row itself. */
  load?: EventLoader<T>;
  /** Undelivered events one subscription may hold in memory before it catches up from the log instead (default 1000). */
  maxPending?: number;
  /** Events per replay read (default 200). */
  replayPageSize?: number;
  /** How long the database may stay unreachable before subscriptions are interrupted (default 30 s). */
  outageBoundMs?: number;
  /** Retry policy of loads and replay reads (default: retry connection errors for `outageBoundMs`). */
  retry?: ReadRetry;
}

/** What one subscription receives. */
export interface SubscribeOptions {
  /** Cursor of the last event the client saw: replay what came after it, then go live. */
  after?: string | null;
  /** Visibility and interest, checked per event (live and replayed). */
  filter: (event: EventRow) => boolean;
  /** SQL pre-filter for replay reads; must select every event `filter` accepts. */
  query?: EventFilter;
}

/** A live subscription: an async iterator of events; `return()` ends it immediately. */
export interface EventSubscription<T> extends AsyncIterableIterator<HubEvent<T>> {
  /** Cursor of the last event consumed (or where it started): resubscribe from here to lose nothing. */
  readonly cursor: string;
  /** Ends the subscription now: unregisters it and settles a pending next() as done. */
  return(): Promise<IteratorResult<HubEvent<T>, undefined>>;
}

/** The database stayed unreachable longer than the outage bound (code STREAM_INTERRUPTED). */
export class EventStreamInterruptedError extends Error {
  readonly code = 'STREAM_INTERRUPTED';
  constructor(readonly cursor: string, boundMs: number) {
    super(`The database was unreachable for more than ${Math.round(boundMs / 1000)} s; subscribe again with after: "${cursor}" once it is back`);
    this.name = 'EventStreamInterruptedError';
  }
}

/** The hub was closed (server shutdown). */
export class EventHubClosedError extends Error {
  constructor() {
    super('Event stream closed');
    this.name = 'EventHubClosedError';
  }
}

/** The source has not connected yet (the database was unreachable at startup): retry shortly. */
export class EventStreamNotReadyError extends Error {
  constructor() {
    super('Event stream not connected yet; retry shortly');
    this.name = 'EventStreamNotReadyError';
  }
}

/** Delivers the listener's events to subscriptions. */
export class EventHub<T = EventRow> {
  private readonly subscribers = new Set<Subscriber<T>>();
  private readonly detach: Array<() => void>;
  private readonly load: EventLoader<T>;
  /** Live batches are loaded concurrently but delivered strictly in order through this chain. */
  private delivery: Promise<void> = Promise.resolve();
  private closed = false;
  /** Set while the LISTEN connection is down: fires the interruption at the outage bound. */
  private outageTimer: NodeJS.Timeout | undefined;
  /** The outage outlasted the bound: new subscriptions are refused until the source reconnects. */
  private interrupted = false;
  readonly maxPending: number;
  readonly replayPageSize: number;
  readonly outageBoundMs: number;
  /** @internal */
  readonly retry: ReadRetry;

  constructor(private readonly options: EventHubOptions<T>) {
    this.load = options.load ?? ((events) => Promise.resolve(events as unknown as T[]));
    this.maxPending = options.maxPending ?? 1000;
    this.replayPageSize = options.replayPageSize ?? 200;
    this.outageBoundMs = options.outageBoundMs ?? 30_000;
    this.retry = options.retry ?? ((read) => retryRead(read, { budgetMs: this.outageBoundMs, aborted: () => this.closed }));
    this.detach = [
      options.source.onBatch((batch) => this.onBatch(batch)),
      options.source.onGap(() => {
        for (const sub of [...this.subscribers]) sub.fail(new EventCursorExpiredError());
      }),
      options.source.onConnectionChange((connected) => this.onConnectionChange(connected)),
    ];
  }

  private onConnectionChange(connected: boolean): void {
    clearTimeout(this.outageTimer);
    this.outageTimer = undefined;
    if (connected) {
      this.interrupted = false;
      return;
    }
    this.outageTimer = setTimeout(() => {
      this.outageTimer = undefined;
      this.interrupted = true;
      for (const sub of [...this.subscribers]) sub.fail(new EventStreamInterruptedError(sub.cursor, this.outageBoundMs));
    }, this.outageBoundMs);
    this.outageTimer.unref();
  }

  /** Live subscriptions on this process. */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Opens a subscription. Rejects with InvalidEventCursorError / EventCursorExpiredError when
   * `after` is unusable (checked by reading the first replay page before resolving).
   */
  async subscribe(options: SubscribeOptions): Promise<EventSubscription<T>> {
    if (this.closed) throw new EventHubClosedError();
    const live = this.options.source.position;
    if (!live || this.interrupted) throw new EventStreamNotReadyError();
    const after = options.after == null ? undefined : decodeEventCursor(options.after);
    const sub = new Subscriber<T>(this, options, after ?? live, live);
    this.subscribers.add(sub);
    if (sub.replaying) {
      try {
        await sub.replayPage();
      } catch (err) {
        this.unregister(sub);
        throw err instanceof DatabaseUnavailableError ? new EventStreamInterruptedError(sub.cursor, this.outageBoundMs) : err;
      }
    }
    return sub;
  }

  /** Ends every subscription and detaches from the source (server shutdown). */
  close(): void {
    this.closed = true;
    clearTimeout(this.outageTimer);
    for (const off of this.detach) off();
    for (const sub of [...this.subscribers]) sub.fail(new EventHubClosedError());
  }

  /** @internal */
  unregister(sub: Subscriber<T>): void {
    this.subscribers.delete(sub);
  }

  /** @internal Reads, filters and loads one replay page for one subscriber. */
  async readReplay(query: EventFilter | undefined, after: EventPosition, until: EventPosition, accepts: (e: EventRow) => boolean) {
    const page = await this.retry(() => this.options.log.fetchSettled({ ...query, after, until, limit: this.replayPageSize }));
    const wanted = page.events.filter(accepts);
    const data = wanted.length > 0 ? await this.retry(() => this.load(wanted)) : [];
    return {
      expired: page.expired,
      items: wanted.map((event, i) => hubEvent(event, data[i] as T)),
      last: page.events.length > 0 ? positionOf(page.events[page.events.length - 1]!) : undefined,
      more: page.events.length === this.replayPageSize,
    };
  }

  private onBatch(batch: readonly EventRow[]): void {
    // Recipients are fixed now, synchronously: a subscriber registering after this point has a
    // replay bound that already includes this batch.
    const recipients = new Map<Subscriber<T>, EventRow[]>();
    const needed = new Set<EventRow>();
    for (const sub of this.subscribers) {
      const mine = sub.select(batch);
      if (mine.length === 0) continue;
      recipients.set(sub, mine);
      for (const event of mine) needed.add(event);
    }
    if (recipients.size === 0) return;
    const events = batch.filter((e) => needed.has(e));
    const loading = this.retry(() => this.load(events)).then((data) => {
      const items = new Map<EventRow, HubEvent<T>>();
      events.forEach((event, i) => items.set(event, hubEvent(event, data[i] as T)));
      return items;
    });
    loading.catch(() => undefined); // handled in the chain below; avoids an unhandled rejection meanwhile
    this.delivery = this.delivery.then(async () => {
      let items: Map<EventRow, HubEvent<T>>;
      try {
        items = await loading;
      } catch (err) {
        // Still unreachable after the outage bound: end these subscriptions resumably (each
        // has consumed nothing of this batch, so its cursor loses nothing).
        for (const sub of recipients.keys()) {
          sub.fail(err instanceof DatabaseUnavailableError ? new EventStreamInterruptedError(sub.cursor, this.outageBoundMs) : err instanceof Error ? err : new Error(String(err)));
        }
        return;
      }
      for (const [sub, mine] of recipients) sub.push(mine.map((e) => items.get(e)!));
      recordEventsDelivered(events, [...recipients.values()].reduce((n, mine) => n + mine.length, 0));
    });
  }
}

function hubEvent<T>(event: EventRow, data: T): HubEvent<T> {
  return { cursor: encodeEventCursor(positionOf(event)), event, data };
}

/** One subscription's state: a replay window (until done), a live buffer, a bounded queue. */
class Subscriber<T> implements EventSubscription<T> {
  private queue: HubEvent<T>[] = [];
  /** Live events received while the replay runs. */
  private buffer: HubEvent<T>[] = [];
  /** Highest position queued: nothing at or below it is queued again. */
  private last: EventPosition;
  /** Position of the last event handed to the consumer. */
  private consumed: EventPosition;
  private replay: { after: EventPosition; until: EventPosition; first: boolean } | undefined;
  private failure: Error | undefined;
  private finished = false;
  private wake: (() => void) | undefined;
  /** Serialises next() calls (graphql-js awaits each, but the protocol allows overlap). */
  private pulling: Promise<unknown> = Promise.resolve();

  constructor(private readonly hub: EventHub<T>, private readonly options: SubscribeOptions, start: EventPosition, live: EventPosition) {
    this.last = start;
    this.consumed = start;
    if (comparePositions(start, live) < 0) this.replay = { after: start, until: live, first: true };
  }

  get replaying(): boolean {
    return this.replay !== undefined;
  }

  get cursor(): string {
    return encodeEventCursor(this.consumed);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<HubEvent<T>, undefined>> {
    const result = this.pulling.then(() => this.pull());
    this.pulling = result.catch(() => undefined);
    return result;
  }

  async return(): Promise<IteratorResult<HubEvent<T>, undefined>> {
    this.finish();
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<HubEvent<T>, undefined>> {
    this.finish();
    throw err;
  }

  /** The events of a live batch this subscriber wants (a throwing filter ends the subscription). */
  select(batch: readonly EventRow[]): EventRow[] {
    if (this.finished || this.failure) return [];
    try {
      return batch.filter(this.options.filter);
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
      return [];
    }
  }

  /** Live events, in order. */
  push(items: HubEvent<T>[]): void {
    if (this.finished || this.failure) return;
    if (this.replay) this.buffer.push(...items);
    else this.enqueue(items);
    if (this.queue.length + this.buffer.length > this.hub.maxPending) this.catchUpFromLog(items[items.length - 1]!);
    this.wake?.();
  }

  /**
   * Too much held in memory: forget it and read it back from the log as the consumer pulls,
   * from the last consumed event through `newest` (the highest position received so far; live
   * events after it are buffered as during any replay).
   */
  private catchUpFromLog(newest: HubEvent<T>): void {
    this.queue = [];
    this.buffer = [];
    this.last = this.consumed;
    this.replay = { after: this.consumed, until: positionOf(newest.event), first: false };
    this.catchUps++;
  }

  /** How often this subscription fell `maxPending` behind and caught up from the log. */
  catchUps = 0;

  /** Ends the subscription with an error, delivered by the next next(); frees its memory now. */
  fail(err: Error): void {
    if (this.finished || this.failure) return;
    this.failure = err;
    this.queue = [];
    this.buffer = [];
    this.hub.unregister(this);
    this.wake?.();
  }

  /** Reads one replay page into the queue; ends the replay after the last page. */
  async replayPage(): Promise<void> {
    const replay = this.replay!;
    const page = await this.hub.readReplay(this.options.query, replay.after, replay.until, this.options.filter);
    if (this.finished || this.failure) return;
    if (replay.first && page.expired) throw new EventCursorExpiredError();
    replay.first = false;
    this.enqueue(page.items);
    if (page.last) replay.after = page.last;
    if (!page.more) {
      this.replay = undefined;
      const buffered = this.buffer;
      this.buffer = [];
      this.enqueue(buffered);
    }
  }

  private enqueue(items: HubEvent<T>[]): void {
    for (const item of items) {
      const position = positionOf(item.event);
      if (comparePositions(position, this.last) <= 0) continue;
      this.queue.push(item);
      this.last = position;
    }
  }

  private async pull(): Promise<IteratorResult<HubEvent<T>, undefined>> {
    for (;;) {
      if (this.failure) {
        const failure = this.failure;
        this.finish();
        throw failure;
      }
      const item = this.queue.shift();
      if (item) {
        this.consumed = positionOf(item.event);
        return { value: item, done: false };
      }
      if (this.finished) return { value: undefined, done: true };
      if (this.replay) {
        try {
          await this.replayPage();
        } catch (err) {
          this.fail(err instanceof DatabaseUnavailableError ? new EventStreamInterruptedError(this.cursor, this.hub.outageBoundMs) : err instanceof Error ? err : new Error(String(err)));
        }
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private finish(): void {
    this.finished = true;
    this.failure = undefined;
    this.queue = [];
    this.buffer = [];
    this.hub.unregister(this);
    this.wake?.();
  }
}
