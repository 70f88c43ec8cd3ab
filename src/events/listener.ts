import type { Logger } from 'pino';
import { untrackQueries, type Db, type Extensions } from '../db/index.js';
import { logger as rootLogger } from '../logger.js';
import { comparePositions, EVENTS_CHANNEL, positionOf, type EventPosition, type EventRow, type SettledPage } from './log.js';

/**
 * The process's single LISTEN connection and the reader of `chat_events` behind it.
 *
 * Why it reads the log instead of trusting NOTIFY payloads: a NOTIFY is only a wake-up call.
 * Sequence numbers are taken before commit, so "seq > last" would skip a transaction that
 * commits late (Hasura issue 8632). Every event row stores its writer's xid; a read returns only
 * events whose xid is below the xmin of that same statement's snapshot. Every transaction below
 * xmin has finished, and any transaction that commits later has xid >= that xmin, so the set of
 * settled events only ever grows at the end of the (xid, seq) order: reading it from the last
 * delivered position never skips or repeats anything. A long transaction delays delivery of
 * everything after it, never loses it.
 *
 * The transaction holding xmin back may write no events and so send no NOTIFY when it ends;
 * therefore, while a read sees committed-but-unsettled events, it re-reads on a short timer with
 * capped backoff. A slow safety poll covers anything else that could swallow a wake-up. After a
 * reconnect (with exponential backoff and jitter) it LISTENs first and then reads from its last
 * delivered position, so an outage only delays events.
 *
 * The connection is made with `db.connect({ direct: true })`, never taken from the pool (a
 * pooled connection could be handed to someone else, and LISTEN state would leak with it).
 */

/** Tuning of an EventListener; the defaults suit production. */
export interface EventListenerOptions {
  /** Events per read; a full page is followed by another read at once. */
  batchSize?: number;
  /** First re-read delay while unsettled events are waiting on an older transaction. */
  settlePollMs?: number;
  /** Cap of that delay's doubling. */
  settlePollMaxMs?: number;
  /** Read even without a NOTIFY this often. */
  safetyPollMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Deliver events after this position; default: only events settled after the first connect. */
  from?: EventPosition;
  logger?: Logger;
}

/** Receives settled events in (xid, seq) order; each event reaches a process exactly once. */
export type EventBatchHandler = (batch: readonly EventRow[]) => void;
/** Told that events between two positions were pruned before this process could read them. */
export type EventGapHandler = (from: EventPosition, to: EventPosition) => void;

/** Told when the LISTEN connection comes up (true) or is lost (false). */
export type ConnectionHandler = (connected: boolean) => void;

/** What the fan-out needs from a listener (the EventHub depends on this, not on the class). */
export interface EventSource {
  /** The last delivered position (undefined before the first connect). */
  readonly position: EventPosition | undefined;
  onBatch(handler: EventBatchHandler): () => void;
  onGap(handler: EventGapHandler): () => void;
  onConnectionChange(handler: ConnectionHandler): () => void;
}

type Connection = Awaited<ReturnType<Db['connect']>> & Extensions;

/** The dedicated LISTEN client of one process. */
export class EventListener implements EventSource {
  private readonly batchSize: number;
  private readonly settlePollMs: number;
  private readonly settlePollMaxMs: number;
  private readonly safetyPollMs: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  private readonly log: Logger;
  private readonly batchHandlers = new Set<EventBatchHandler>();
  private readonly gapHandlers = new Set<EventGapHandler>();
  /** Other channels on the same connection (the message-part relay): payload handlers by channel. */
  private readonly channels = new Map<string, (payload: string, order: number) => void>();
  /** Notifications received so far (any channel), and the arrival number of recent event xids. */
  private arrivals = 0;
  private readonly xidArrivals = new Map<string, number>();
  private readonly connectionHandlers = new Set<ConnectionHandler>();

  private conn: Connection | undefined;
  private pid: number | undefined;
  private current: EventPosition | undefined;
  private stopped = true;
  private connects = 0;
  private loop: Promise<void> | undefined;
  private pumping: Promise<void> | undefined;
  private dirty = false;
  private settleDelay: number;
  private settleTimer: NodeJS.Timeout | undefined;
  private safetyTimer: NodeJS.Timeout | undefined;
  private wakeSleep: (() => void) | undefined;

  constructor(private readonly db: Db, options: EventListenerOptions = {}) {
    this.batchSize = options.batchSize ?? 500;
    this.settlePollMs = options.settlePollMs ?? 25;
    this.settlePollMaxMs = options.settlePollMaxMs ?? 1000;
    this.safetyPollMs = options.safetyPollMs ?? 5000;
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    // Capped low on purpose: after an outage the stream should resume within a couple of
    // seconds of the database coming back, and one connect attempt per replica every 2 s is cheap.
    this.reconnectMaxMs = options.reconnectMaxMs ?? 2000;
    this.current = options.from;
    this.log = (options.logger ?? rootLogger).child({ component: 'event-listener' });
    this.settleDelay = this.settlePollMs;
  }

  /** Connects (retrying with backoff until it succeeds or stop() is called) and starts delivering. */
  async start(): Promise<void> {
    if (!this.stopped) return this.loop;
    this.stopped = false;
    this.safetyTimer = setInterval(() => this.requestRead(), this.safetyPollMs);
    this.safetyTimer.unref();
    this.loop = this.connectLoop();
    return this.loop;
  }

  /** Closes the connection and timers; idempotent. Batches are not delivered after it resolves. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.safetyTimer);
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.wakeSleep?.();
    await this.loop;
    await this.pumping;
    const conn = this.conn;
    this.conn = undefined;
    this.pid = undefined;
    if (conn) await this.close(conn);
  }

  /** True while the LISTEN connection is up (for /ready). */
  isHealthy(): boolean {
    return !this.stopped && this.conn !== undefined;
  }

  /** The position of the last delivered event. */
  get position(): EventPosition | undefined {
    return this.current;
  }

  /** Backend pid of the LISTEN connection (tests terminate it to prove reconnects). */
  get backendPid(): number | undefined {
    return this.pid;
  }

  /** Successful connects so far: 1 after start, +1 per reconnect. */
  get connectCount(): number {
    return this.connects;
  }

  /** Adds a batch handler; returns its remover. Handlers run synchronously, in registration order. */
  onBatch(handler: EventBatchHandler): () => void {
    this.batchHandlers.add(handler);
    return () => this.batchHandlers.delete(handler);
  }

  /**
   * Also LISTENs on `channel` (on this same connection; call before start) and hands each
   * payload to `handler`, in arrival order. Nothing is replayed for it after a reconnect.
   */
  listen(channel: string, handler: (payload: string, order: number) => void): void {
    this.channels.set(channel, handler);
  }

  /**
   * When the NOTIFY of the transaction `xid` arrived, as a number comparable with the `order`
   * given to `listen` handlers (undefined if not seen recently). Notifications arrive in commit
   * order, so this orders an event against other channels' payloads.
   */
  arrivalOf(xid: string): number | undefined {
    return this.xidArrivals.get(xid);
  }

  /** Adds a gap handler (the log was pruned past this listener's position); returns its remover. */
  onGap(handler: EventGapHandler): () => void {
    this.gapHandlers.add(handler);
    return () => this.gapHandlers.delete(handler);
  }

  /** Adds a handler told when the LISTEN connection comes up or is lost; returns its remover. */
  onConnectionChange(handler: ConnectionHandler): () => void {
    this.connectionHandlers.add(handler);
    return () => this.connectionHandlers.delete(handler);
  }

  private announce(connected: boolean): void {
    for (const handler of this.connectionHandlers) {
      try {
        handler(connected);
      } catch (err) {
        this.log.error({ err }, 'event connection handler failed');
      }
    }
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.connect();
        return;
      } catch (err) {
        if (this.stopped) return;
        // Equal jitter: half the capped exponential delay fixed, half random, so replicas that
        // lost the database together do not reconnect in lockstep.
        const cap = Math.min(this.reconnectMaxMs, this.reconnectMinMs * 2 ** Math.min(attempt, 20));
        const delay = cap / 2 + Math.random() * (cap / 2);
        this.log.warn({ err, attempt, delayMs: Math.round(delay) }, 'event listener connect failed; retrying');
        await this.sleep(delay);
      }
    }
  }

  private async connect(): Promise<void> {
    let conn: Connection | undefined;
    conn = (await this.db.connect({
      direct: true,
      onLost: (err: unknown) => {
        if (conn) this.connectionLost(conn, err);
      },
    })) as unknown as Connection;
    try {
      if (this.stopped) throw new Error('stopped while connecting');
      untrackQueries(conn.client);
      conn.client.on('notification', this.onNotification);
      // LISTEN before reading: whatever commits after this point wakes us, and the read below
      // covers everything before it.
      await conn.none('LISTEN $1:name', [EVENTS_CHANNEL]);
      for (const channel of this.channels.keys()) await conn.none('LISTEN $1:name', [channel]);
      this.current ??= await conn.eventLog.head();
    } catch (err) {
      const failed = conn;
      conn = undefined; // a failure here is not a "lost" connection: the loop retries
      await this.close(failed);
      throw err;
    }
    this.conn = conn;
    this.pid = conn.client.processID;
    this.connects++;
    this.settleDelay = this.settlePollMs;
    this.log.debug({ pid: this.pid, position: this.current }, 'event listener connected');
    this.announce(true);
    this.requestRead();
  }

  private readonly onNotification = (message: { channel: string; payload?: string }): void => {
    const order = ++this.arrivals;
    if (message.channel === EVENTS_CHANNEL) {
      if (this.channels.size > 0 && message.payload) {
        this.xidArrivals.set(message.payload, order);
        if (this.xidArrivals.size > 10_000) this.xidArrivals.delete(this.xidArrivals.keys().next().value!);
      }
      this.requestRead();
    } else {
      this.channels.get(message.channel)?.(message.payload ?? '', order);
    }
  };

  private connectionLost(conn: Connection, err: unknown): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.pid = undefined;
    // Release only after an in-flight read on it has settled: pg errors that read's callback
    // after the loss, and pg-promise crashes the process (TypeError on a released context) if
    // the connection was released before the callback ran.
    const reading = this.pumping ?? Promise.resolve();
    void reading.finally(() => this.close(conn));
    if (this.stopped) return;
    this.log.warn({ err }, 'event listener connection lost; reconnecting');
    this.announce(false);
    this.loop = this.connectLoop();
  }

  private async close(conn: Connection): Promise<void> {
    conn.client.removeListener('notification', this.onNotification);
    // pg-promise drops its error handler as soon as done() starts ending the connection; an
    // error the server sends meanwhile (e.g. "terminating connection" when Postgres stops at the
    // same moment, as with Ctrl-C) would then be an unhandled 'error' event and crash the process.
    conn.client.on('error', () => undefined);
    try {
      await conn.done();
    } catch {
      // already closed by the server
    }
  }

  /** Coalesces wake-ups: at most one read runs, and a wake-up during it causes one more. */
  private requestRead(): void {
    this.dirty = true;
    if (this.pumping || !this.conn || this.stopped) return;
    this.pumping = this.drain().finally(() => {
      this.pumping = undefined;
      // A wake-up that raced the end of the loop (e.g. a reconnect) must not be lost.
      if (this.dirty && this.conn && !this.stopped) this.requestRead();
    });
  }

  private async drain(): Promise<void> {
    while (this.dirty && this.conn && !this.stopped) {
      this.dirty = false;
      const conn = this.conn;
      const after = this.current!;
      let page: SettledPage;
      try {
        page = await conn.eventLog.fetchSettled({ after, limit: this.batchSize });
      } catch (err) {
        // The connection broke mid-read (or the read is broken): drop it; the reconnect reads again.
        this.dirty = true;
        this.connectionLost(conn, err);
        return;
      }
      if (this.stopped) return;
      const full = page.events.length === this.batchSize;
      if (page.events.length > 0) {
        this.current = positionOf(page.events[page.events.length - 1]!);
        this.settleDelay = this.settlePollMs;
        this.emit(page.events);
      }
      if (page.expired && page.prunedThrough) this.skipGap(after, page.prunedThrough, full);
      if (full) this.dirty = true;
      else if (page.unsettled) this.scheduleSettleRead();
      else this.settleDelay = this.settlePollMs;
    }
  }

  /**
   * Retention pruned events this listener had not read (it was away longer than the retention
   * window). What is left was delivered as usual; subscribers are told so they can refetch.
   */
  private skipGap(from: EventPosition, to: EventPosition, more: boolean): void {
    this.log.error({ from, to }, 'event listener position expired: events were pruned before delivery');
    // Past the watermark, so the next read is not "expired" again (unless retained rows remain).
    if (!more && comparePositions(this.current!, to) < 0) this.current = to;
    for (const handler of this.gapHandlers) {
      try {
        handler(from, to);
      } catch (err) {
        this.log.error({ err }, 'event gap handler failed');
      }
    }
  }

  private scheduleSettleRead(): void {
    if (this.settleTimer) return;
    const delay = this.settleDelay;
    this.settleDelay = Math.min(this.settlePollMaxMs, this.settleDelay * 2);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.requestRead();
    }, delay);
    this.settleTimer.unref();
  }

  private emit(batch: readonly EventRow[]): void {
    for (const handler of this.batchHandlers) {
      try {
        handler(batch);
      } catch (err) {
        this.log.error({ err }, 'event batch handler failed');
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = done;
    });
  }
}
