import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/index.js';
import { retryRead } from '../db/retry.js';
import { logger as rootLogger } from '../logger.js';
import { EventHub } from './hub.js';
import { EventListener, type EventListenerOptions } from './listener.js';
import { MessagePartRelay, PARTS_CHANNEL, type MessagePartRelayOptions } from './messageParts.js';
import { eventDataLoader, type ChatEventHub } from './payload.js';
import { startEventPruner, type EventPruner } from './retention.js';

/** Options of the process's event stream (tests shorten timings). */
export interface EventStreamOptions {
  /** How long `start()` waits for the first LISTEN connection before serving without it (default 5 s). */
  connectWaitMs?: number;
  listener?: EventListenerOptions;
  parts?: MessagePartRelayOptions;
  logger?: Logger;
}

/**
 * The watch-stream pipeline of one process: one EventListener (the only LISTEN connection),
 * one EventHub fanning its events out to every subscription, and the retention pruner.
 */
export class EventStream {
  readonly listener: EventListener;
  readonly hub: ChatEventHub;
  /** Streamed message parts, relayed over the same LISTEN connection. */
  readonly parts: MessagePartRelay;
  private pruner: EventPruner | undefined;
  private readonly log: Logger;

  constructor(private readonly db: Db, private readonly config: Config, private readonly options: EventStreamOptions = {}) {
    this.log = (options.logger ?? rootLogger).child({ component: 'event-stream' });
    this.listener = new EventListener(db, { logger: options.logger, ...options.listener });
    this.hub = new EventHub({ source: this.listener, log: db.eventLog, load: eventDataLoader(db, (read) => retryRead(read, { budgetMs: config.eventOutageSeconds * 1000 })), outageBoundMs: config.eventOutageSeconds * 1000 });
    this.parts = new MessagePartRelay({
      batchesPerSecond: config.messagePartsPerSecond,
      burst: config.messagePartsBurst,
      maxPreviewBytes: config.messagePreviewMaxBytes,
      send: (batches) => db.chats.notifyOwned(PARTS_CHANNEL, batches),
      ...options.parts,
    });
    this.listener.listen(PARTS_CHANNEL, (payload, order) => this.parts.receive(payload, order));
    // After the hub's handler: a status leaving RUNNING resets an open preview of that run.
    this.listener.onBatch((batch) => this.parts.onLog(batch, (xid) => this.listener.arrivalOf(xid)));
  }

  /** Live subscriptions on this process (both transports). */
  get subscriberCount(): number {
    return this.hub.subscriberCount;
  }

  /** True while the LISTEN connection is up. */
  isHealthy(): boolean {
    return this.listener.isHealthy();
  }

  /**
   * Starts the pruner and the listener. Waits for the first LISTEN connection only for a while:
   * a database that is briefly unreachable must not keep the server from starting. Meanwhile
   * /ready answers 503 and subscribing answers UNAVAILABLE; the listener keeps retrying.
   */
  async start(): Promise<void> {
    this.pruner ??= startEventPruner(this.db, {
      retentionDays: this.config.eventRetentionDays,
      intervalMs: this.config.eventPruneIntervalSeconds * 1000,
      logger: this.options.logger,
    });
    const connected = this.listener.start().then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.options.connectWaitMs ?? 5000);
    });
    const ok = await Promise.race([connected, waited]);
    clearTimeout(timer);
    if (!ok) this.log.warn('event listener not connected yet; serving without live events until it is');
  }

  /** Ends every subscription, then releases the LISTEN connection and stops pruning. Idempotent. */
  async stop(): Promise<void> {
    const open = this.hub.subscriberCount;
    this.hub.close();
    this.parts.close();
    await Promise.all([this.listener.stop(), this.pruner?.stop()]);
    this.log.debug({ subscriptionsEnded: open }, 'event stream stopped');
  }
}
