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
import type { ChatRow, MessageRow } from '../db/models.js';
import { readRetry } from '../db/retry.js';
import { ResponseBudget } from '../limits/responseBudget.js';
import { EventStreamError, ForbiddenError, NotFoundError, ValidationError } from './errors.js';
import { createLoaders } from './loaders.js';
import type { PartDelta, PreviewItem } from '../events/messageParts.js';
import { ERROR_CODES } from '../codes.js';

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
export const CHAT_STREAM_KINDS = [
  'MESSAGE', 'MESSAGE_DELETED', 'STATUS', 'QUEUE_UPDATE', 'DIFF_STATUS', 'MODEL_CONFIG', 'TITLE', 'ARCHIVED', 'CHILD_UPDATE',
  'MESSAGE_PART', 'PREVIEW_RESET',
] as const;
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

/** Events of a child chat that its parent's `chatEvents` shows as CHILD_UPDATE (the child appeared, moved, was renamed or archived). */
const CHILD_EVENT_KINDS: ReadonlySet<EventKind> = new Set(['chat_created', 'status', 'title', 'chat_archived', 'chat_unarchived']);

/** The family root a chat's events name (`data.root_chat_id`; a root names none). */
const familyRoot = (chat: Pick<ChatRow, 'id' | 'root_chat_id'>) => chat.root_chat_id ?? chat.id;

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
  /** MESSAGE_PART and PREVIEW_RESET only: the streamed deltas (none for a reset). */
  preview?: { attempt: number; seq: number | null; parts: PartDelta[] };
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
  if (err instanceof EventCursorExpiredError) return new EventStreamError(ERROR_CODES.CURSOR_EXPIRED, err.message);
  if (err instanceof EventStreamInterruptedError) return new EventStreamError(ERROR_CODES.STREAM_INTERRUPTED, err.message, err.cursor);
  if (err instanceof EventStreamNotReadyError) return new EventStreamError(ERROR_CODES.UNAVAILABLE, err.message);
  if (err instanceof EventHubClosedError) return new EventStreamError(ERROR_CODES.UNAVAILABLE, 'Server shutting down; reconnect and resubscribe with after: the last cursor you received');
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

  /** The cursor of the last event consumed (or where the subscription started). */
  get cursor(): string {
    return this.sub.cursor;
  }

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

async function open<K extends string>(ctx: Context, options: OpenOptions<K>): Promise<StreamIterator<K>> {
  if (!ctx.eventHub) throw new EventStreamError(ERROR_CODES.UNAVAILABLE, 'Subscriptions are not available on this server');
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
 *
 * Its direct children's lifecycle events come as CHILD_UPDATE, so a UI shows sub-agents appear
 * and settle under their parent. Children share the parent's owner, so the replay reads the
 * owner's slice of the log (its index) and keeps this chat's events and its family's.
 */
export async function chatEvents(args: { chatId: string; after?: string | null }, ctx: Context) {
  const viewer = viewerOf(ctx);
  const chat = await ctx.loaders.chat.load(args.chatId);
  if (!chat) throw new NotFoundError('Chat not found', args.chatId);
  const root = familyRoot(chat);
  const isChildEvent = (event: EventRow) =>
    event.chat_id !== chat.id && CHILD_EVENT_KINDS.has(event.kind) && event.data.root_chat_id === root;
  const stream = await open<ChatStreamKind>(ctx, {
    after: args.after,
    query: { ownerId: chat.owner_id },
    accepts: (event) => event.chat_id === chat.id || isChildEvent(event),
    kind: (event) => (event.chat_id === chat.id ? chatStreamKind(event) : isChildEvent(event) ? 'CHILD_UPDATE' : null),
    deliverable: (data) =>
      data.chat !== null &&
      (data.chat.id === chat.id ? data.message === null || seesMessage(viewer, data.message) : data.chat.parent_chat_id === chat.id),
  });
  return ctx.parts ? new ChatStreamIterator(stream, chat, ctx.parts) : stream;
}

/** How long parts after an end marker wait for the MESSAGE events that supersede the preview. */
const END_WAIT_MS = 2000;

/**
 * `chatEvents` with the chat's streamed preview merged in: the relay's snapshot first (a late
 * joiner sees the attempt so far), then live parts and resets as they come, beside the log's
 * events. After an end marker, later parts wait until the MESSAGE events it names have been
 * delivered (at most END_WAIT_MS), so a client sees the preview's parts, then the message that
 * supersedes them, then the next attempt. A part event carries the cursor of the last log event
 * delivered before it: parts are never replayed, so resuming from it loses nothing stored.
 */
class ChatStreamIterator implements AsyncIterableIterator<StreamItem<ChatStreamKind>> {
  private readonly items: PreviewItem[];
  private readonly unsubscribe: () => void;
  private awaiting: { ids: Set<string>; until: number } | undefined;
  private hubNext: Promise<IteratorResult<StreamItem<ChatStreamKind>, undefined>> | undefined;
  private wake: (() => void) | undefined;
  private ended = false;

  constructor(private readonly stream: StreamIterator<ChatStreamKind>, private chat: ChatRow, relay: NonNullable<Context['parts']>) {
    const sub = relay.subscribe(chat.id, (item) => {
      this.items.push(item);
      this.wake?.();
    });
    this.items = [...sub.snapshot];
    this.unsubscribe = sub.unsubscribe;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<StreamItem<ChatStreamKind>, undefined>> {
    while (!this.ended) {
      if (this.awaiting && Date.now() >= this.awaiting.until) this.awaiting = undefined;
      if (!this.awaiting && this.items.length > 0) {
        const item = this.items.shift()!;
        if (item.kind === 'end') {
          this.awaiting = { ids: new Set(item.messageIds), until: Date.now() + END_WAIT_MS };
          continue;
        }
        return { value: this.previewEvent(item), done: false };
      }
      this.hubNext ??= this.stream.next();
      const hub = this.hubNext;
      let timer: NodeJS.Timeout | undefined;
      const woken = new Promise<null>((resolve) => {
        this.wake = () => resolve(null);
        if (this.awaiting) timer = setTimeout(() => resolve(null), Math.max(0, this.awaiting.until - Date.now()));
      });
      const result = await Promise.race([hub, woken]);
      clearTimeout(timer);
      this.wake = undefined;
      if (result === null) continue;
      this.hubNext = undefined;
      if (result.done) break;
      const value = result.value;
      if (!('failure' in value)) {
        if (value.data.chat?.id === this.chat.id) this.chat = value.data.chat;
        const id = value.kind === 'MESSAGE' ? value.data.message?.id : undefined;
        if (id && this.awaiting?.ids.delete(id) && this.awaiting.ids.size === 0) this.awaiting = undefined;
      }
      return result;
    }
    await this.return();
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<StreamItem<ChatStreamKind>, undefined>> {
    if (!this.ended) {
      this.ended = true;
      this.unsubscribe();
      this.wake?.();
      await this.stream.return();
    }
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<StreamItem<ChatStreamKind>, undefined>> {
    await this.return();
    throw err;
  }

  private previewEvent(item: Exclude<PreviewItem, { kind: 'end' }>): StreamEvent<ChatStreamKind> {
    return {
      cursor: this.stream.cursor,
      kind: item.kind === 'parts' ? 'MESSAGE_PART' : 'PREVIEW_RESET',
      occurredAt: new Date(),
      // Parts change nothing stored: the version is that of the chat as last seen.
      version: this.chat.version,
      data: { chat: this.chat, message: null, queued: null, queueChange: null, modelConfig: null },
      preview: item.kind === 'parts' ? { attempt: item.attempt, seq: item.seq, parts: item.parts } : { attempt: item.attempt, seq: null, parts: [] },
    };
  }
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

/** Statuses in which nothing more happens to a chat until someone acts: what chatsSettled waits for. */
export const SETTLED_STATUSES: ReadonlySet<ChatRow['status']> = new Set(['waiting', 'error', 'requires_action', 'paused', 'completed']);
/** chatsSettled watches at most this many chats. */
export const MAX_SETTLED_CHATS = 100;

/** One chat of a chatsSettled subscription reaching a settled status. */
export interface SettledItem {
  chat: ChatRow;
  /** Chats of the subscription not settled yet. */
  remaining: number;
}

/**
 * `chatsSettled(chatIds)`: each chat once, as it reaches a settled status (already-settled ones
 * first), then the stream completes. It registers with the hub before reading the chats' current
 * state (one statement), so a chat that settles in between is seen by one or the other; waiting
 * costs no statement (status events arrive through the process's LISTEN connection). The status
 * tested is the chat's state when the event's batch was loaded: a chat that went back to work
 * meanwhile is not reported until it settles again.
 */
export async function chatsSettled(args: { chatIds: readonly string[] }, ctx: Context): Promise<AsyncIterableIterator<SettledItem | StreamFailure>> {
  viewerOf(ctx);
  const ids = [...new Set(args.chatIds)];
  if (ids.length === 0 || ids.length > MAX_SETTLED_CHATS) throw new ValidationError(`chatIds must hold 1-${MAX_SETTLED_CHATS} chats`, 'chatIds');
  if (!ctx.eventHub) throw new EventStreamError(ERROR_CODES.UNAVAILABLE, 'Subscriptions are not available on this server');
  const wanted = new Set(ids);
  let sub: EventSubscription<EventData>;
  try {
    sub = await ctx.eventHub.subscribe({ filter: (event) => event.kind === 'status' && event.chat_id !== null && wanted.has(event.chat_id) });
  } catch (err) {
    throw streamError(err);
  }
  let rows: ChatRow[];
  try {
    rows = (await ctx.db.chats.byIds(ids)).filter((row) => canRead(ctx.viewer, row));
  } catch (err) {
    await sub.return();
    throw err;
  }
  const missing = ids.find((id) => !rows.some((r) => r.id === id));
  if (missing) {
    await sub.return();
    throw new NotFoundError('Chat not found', missing);
  }
  return new SettledIterator(sub, wanted, rows.filter((r) => SETTLED_STATUSES.has(r.status)));
}

class SettledIterator implements AsyncIterableIterator<SettledItem | StreamFailure> {
  private readonly settled = new Set<string>();
  private readonly ready: ChatRow[] = [];
  private ended = false;

  constructor(private readonly sub: EventSubscription<EventData>, private readonly wanted: ReadonlySet<string>, initial: ChatRow[]) {
    this.ready.push(...initial);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<SettledItem | StreamFailure, undefined>> {
    while (!this.ended) {
      const chat = this.ready.shift();
      if (chat) {
        if (this.settled.has(chat.id)) continue;
        this.settled.add(chat.id);
        return { value: { chat, remaining: this.wanted.size - this.settled.size }, done: false };
      }
      if (this.settled.size === this.wanted.size) break;
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
      const row = result.value.data.chat;
      if (row && SETTLED_STATUSES.has(row.status)) this.ready.push(row);
    }
    await this.return();
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<SettledItem | StreamFailure, undefined>> {
    this.ended = true;
    await this.sub.return();
    return { value: undefined, done: true };
  }

  async throw(err?: unknown): Promise<IteratorResult<SettledItem | StreamFailure, undefined>> {
    await this.return();
    throw err;
  }
}

/** Fresh per-event loaders primed with `chat` (as `deliver` does for the other streams). */
export function freshLoaders(ctx: Context, chat: ChatRow): Context['loaders'] {
  const loaders = createLoaders(ctx.db, ctx.viewer);
  loaders.chat.prime(chat.id, canRead(ctx.viewer, chat) ? chat : null);
  return loaders;
}
