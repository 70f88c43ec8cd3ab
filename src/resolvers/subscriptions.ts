import { canRead, seesMessage } from '../auth/policy.js';
import type { Viewer } from '../auth/viewer.js';
import type { Context } from '../context.js';
import { EventCursorExpiredError, InvalidEventCursorError } from '../events/cursor.js';
import {
  EventHubClosedError, EventStreamInterruptedError, EventStreamNotReadyError,
  type EventSubscription, type HubEvent,
} from '../events/hub.js';
import type { EventFilter, EventKind, EventRow } from '../events/log.js';
import type { EventData } from '../events/payload.js';
import type { MessageRow } from '../db/repos/messages.js';
import { readRetry } from '../db/retry.js';
import { ResponseBudget } from '../limits/responseBudget.js';
import { EventStreamError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { createLoaders } from './loaders.js';

/**
 * The GraphQL side of the watch stream: which stored events each subscription field receives,
 * under which public kind. The pipeline itself (log, listener, hub, loading) is src/events/.
 *
 * Each delivered event is resolved with fresh per-event loaders primed with the rows the hub
 * loaded once for the batch (src/events/payload.ts), so nested fields cost no statement for what
 * was preloaded and a long-lived subscription never serves a stale cache.
 */

/** Public kinds of `chatWatch`. */
export const CHAT_WATCH_KINDS = [
  'CREATED', 'DELETED', 'STATUS_CHANGE', 'TITLE_CHANGE', 'DIFF_STATUS_CHANGE', 'MODEL_CONFIG_CHANGE', 'QUEUE_CHANGE', 'ACTION_REQUIRED',
] as const;
export type ChatWatchKind = (typeof CHAT_WATCH_KINDS)[number];

/** Public kinds of `chatEvents`. */
export const CHAT_STREAM_KINDS = ['MESSAGE', 'MESSAGE_DELETED', 'STATUS', 'QUEUE_UPDATE', 'DIFF_STATUS', 'MODEL_CONFIG', 'TITLE', 'ARCHIVED'] as const;
export type ChatStreamKind = (typeof CHAT_STREAM_KINDS)[number];

/** Public kinds of `modelConfigChanged`. */
export const MODEL_CONFIG_EVENT_PUBLIC_KINDS = ['CREATED', 'UPDATED', 'DELETED', 'DEFAULT_CHANGED'] as const;
export type ModelConfigEventKind = (typeof MODEL_CONFIG_EVENT_PUBLIC_KINDS)[number];

/**
 * One stored event becomes at most one public event (one cursor, one event), so a status change
 * to requires_action is ACTION_REQUIRED instead of STATUS_CHANGE, not in addition to it: a
 * client resuming after one of two events sharing a cursor would silently lose the other.
 */
export function chatWatchKind(event: Pick<EventRow, 'kind' | 'data'>): ChatWatchKind | null {
  switch (event.kind) {
    case 'chat_created':
    case 'chat_unarchived':
      return 'CREATED';
    case 'chat_archived':
      return 'DELETED';
    case 'status':
      return event.data.status === 'requires_action' ? 'ACTION_REQUIRED' : 'STATUS_CHANGE';
    case 'title':
      return 'TITLE_CHANGE';
    case 'model_config':
      return 'MODEL_CONFIG_CHANGE';
    case 'queue':
      return 'QUEUE_CHANGE';
    case 'diff_status':
      return 'DIFF_STATUS_CHANGE';
    default:
      return null; // messages are chatEvents' business; model configs have their own stream
  }
}

const STREAM_KINDS: Partial<Record<EventKind, ChatStreamKind>> = {
  message: 'MESSAGE',
  message_deleted: 'MESSAGE_DELETED',
  status: 'STATUS',
  queue: 'QUEUE_UPDATE',
  diff_status: 'DIFF_STATUS',
  model_config: 'MODEL_CONFIG',
  title: 'TITLE',
  chat_archived: 'ARCHIVED',
  chat_unarchived: 'ARCHIVED',
};

/** The `chatEvents` kind of a stored event (chat_created has none: the chat already exists for its subscribers). */
export function chatStreamKind(event: Pick<EventRow, 'kind'>): ChatStreamKind | null {
  return STREAM_KINDS[event.kind] ?? null;
}

const CONFIG_KINDS: Partial<Record<EventKind, ModelConfigEventKind>> = {
  model_config_created: 'CREATED',
  model_config_updated: 'UPDATED',
  model_config_deleted: 'DELETED',
  model_config_default_changed: 'DEFAULT_CHANGED',
};

/** The `modelConfigChanged` kind of a stored event. */
export function modelConfigEventKind(event: Pick<EventRow, 'kind'>): ModelConfigEventKind | null {
  return CONFIG_KINDS[event.kind] ?? null;
}

/** One event as a subscription field resolves it. */
export interface StreamEvent<K extends string> {
  cursor: string;
  kind: K;
  occurredAt: Date;
  /** The chat's version after the change (null for model-config events). */
  version: string | null;
  data: EventData;
}

/** A failure of a running stream, delivered as the stream's last result (then it completes). */
export interface StreamFailure {
  failure: EventStreamError;
}

/** What a subscription iterator yields. */
export type StreamItem<K extends string> = StreamEvent<K> | StreamFailure;

/** Turns hub failures into errors with a code the client can act on; anything else passes through. */
function streamError(err: unknown): unknown {
  if (err instanceof InvalidEventCursorError) return new ValidationError(err.message, 'after');
  if (err instanceof EventCursorExpiredError) return new EventStreamError('CURSOR_EXPIRED', err.message);
  if (err instanceof EventStreamInterruptedError) return new EventStreamError('STREAM_INTERRUPTED', err.message, err.cursor);
  if (err instanceof EventStreamNotReadyError) return new EventStreamError('UNAVAILABLE', err.message);
  if (err instanceof EventHubClosedError) return new EventStreamError('UNAVAILABLE', 'Server shutting down; reconnect and resubscribe with after: the last cursor you received');
  return err;
}

/**
 * Adapts a hub subscription to what graphql-js consumes. Not an async generator on purpose: a
 * generator suspended in `await sub.next()` cannot run `return()` until an event arrives, so a
 * client's complete or disconnect would leave the hub subscription registered. Here `return()`
 * goes straight to the hub, which ends a pending `next()` at once.
 */
class StreamIterator<K extends string> implements AsyncIterableIterator<StreamItem<K>> {
  private ended = false;

  constructor(private readonly sub: EventSubscription<EventData>, private readonly map: (item: HubEvent<EventData>) => StreamEvent<K> | null) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<StreamItem<K>, undefined>> {
    while (!this.ended) {
      let result: IteratorResult<HubEvent<EventData>, undefined>;
      try {
        result = await this.sub.next();
      } catch (err) {
        this.ended = true;
        const failure = streamError(err);
        if (failure instanceof EventStreamError) return { value: { failure }, done: false };
        throw failure;
      }
      if (result.done) break;
      const event = this.map(result.value);
      if (event) return { value: event, done: false };
    }
    this.ended = true;
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<StreamItem<K>, undefined>> {
    this.ended = true;
    await this.sub.return();
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<StreamItem<K>, undefined>> {
    await this.return();
    throw err;
  }
}

interface OpenOptions<K extends string> {
  after?: string | null;
  query?: EventFilter;
  /** Visibility and interest from the event row alone (runs for every event of the process). */
  accepts: (event: EventRow) => boolean;
  kind: (event: EventRow) => K | null;
  /** Whether this viewer gets the loaded event (rows deleted since, model-only messages). */
  deliverable: (data: EventData) => boolean;
}

async function open<K extends string>(ctx: Context, options: OpenOptions<K>): Promise<AsyncIterableIterator<StreamItem<K>>> {
  if (!ctx.eventHub) throw new EventStreamError('UNAVAILABLE', 'Subscriptions are not available on this server');
  let sub: EventSubscription<EventData>;
  try {
    sub = await ctx.eventHub.subscribe({
      after: options.after,
      query: options.query,
      filter: (event) => options.kind(event) !== null && options.accepts(event),
    });
  } catch (err) {
    throw streamError(err);
  }
  return new StreamIterator<K>(sub, ({ cursor, event, data }) =>
    options.deliverable(data) ? { cursor, kind: options.kind(event)!, occurredAt: event.occurred_at, version: event.version, data } : null,
  );
}

function viewerOf(ctx: Context): Viewer {
  if (!ctx.viewer) throw new ForbiddenError('Authentication required');
  return ctx.viewer;
}

/** `chatWatch`: the viewer's chats; admins every user's with `allUsers`. */
export function chatWatch(args: { after?: string | null; allUsers?: boolean | null }, ctx: Context) {
  const viewer = viewerOf(ctx);
  if (args.allUsers && !viewer.isAdmin) throw new ForbiddenError('allUsers needs an admin token');
  const ownerId = args.allUsers ? undefined : viewer.user.id;
  return open<ChatWatchKind>(ctx, {
    after: args.after,
    query: ownerId ? { ownerId } : undefined,
    accepts: (event) => event.chat_id !== null && (ownerId === undefined || event.owner_id === ownerId),
    kind: chatWatchKind,
    deliverable: (data) => data.chat !== null,
  });
}

/**
 * `chatEvents`: one chat, if the viewer can read it (the `chat` query's rule: owner, admin or
 * worker). Checked once, before subscribing: a chat's owner never changes.
 */
export async function chatEvents(args: { chatId: string; after?: string | null }, ctx: Context) {
  const viewer = viewerOf(ctx);
  const chat = await ctx.loaders.chat.load(args.chatId);
  if (!chat) throw new NotFoundError('Chat not found', args.chatId);
  return open<ChatStreamKind>(ctx, {
    after: args.after,
    query: { chatId: chat.id },
    accepts: (event) => event.chat_id === chat.id,
    kind: chatStreamKind,
    deliverable: (data) => data.chat !== null && (data.message === null || seesMessage(viewer, data.message)),
  });
}

/** `modelConfigChanged`: model configs are global, so every authenticated viewer gets every event. */
export function modelConfigChanged(args: { after?: string | null }, ctx: Context) {
  viewerOf(ctx);
  return open<ModelConfigEventKind>(ctx, {
    after: args.after,
    query: { modelConfigsOnly: true },
    accepts: () => true,
    kind: modelConfigEventKind,
    deliverable: (data) => data.modelConfig !== null,
  });
}

/**
 * Resolves one yielded item for the subscriber. graphql-js executes every event of a
 * subscription with the one context object of the subscription, so this gives it fresh loaders
 * first (events are executed one at a time: the next is pulled only after this one is sent) and
 * primes them with the preloaded rows the viewer may see. The response-size budget is per event
 * too: a long-lived subscription is not refused for the sum of everything it ever carried.
 */
export function deliver<K extends string>(item: StreamItem<K>, ctx: Context): StreamEvent<K> {
  if ('failure' in item) throw item.failure;
  // Nested fields read with the stream's outage budget: a fault while resolving delays the event.
  const loaders = createLoaders(ctx.db, ctx.viewer, readRetry(ctx.config.eventOutageSeconds * 1000));
  const { chat, message, modelConfig } = item.data;
  if (chat) loaders.chat.prime(chat.id, canRead(ctx.viewer, chat) ? chat : null);
  if (message) loaders.message.prime(message.id, message);
  if (modelConfig) loaders.modelConfig.prime(modelConfig.id, modelConfig);
  ctx.loaders = loaders;
  // The response-size bound is per response: each event is one, so each gets a fresh budget
  // (with one budget per subscription, a long-lived stream would end after MAX_RESPONSE_BYTES in all).
  ctx.budget = new ResponseBudget(ctx.config.maxResponseBytes);
  return item;
}
