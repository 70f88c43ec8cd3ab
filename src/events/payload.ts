import type { Queryable } from '../db/index.js';
import type { ChatRow, MessageRow, ModelConfigRow, QueuedMessageRow } from '../db/models.js';
import type { EventHub, EventLoader } from './hub.js';
import { MODEL_CONFIG_EVENT_KINDS, type EventKind } from './log.js';

/**
 * What an event carries to its subscribers, loaded once per process per batch (the hub's load
 * hook, only for events some subscription wants) and shared by every subscriber. The rows are
 * the state when the batch was loaded (for a replay: when it was replayed), not a historic
 * snapshot; the event's kind says what changed.
 *
 * Queued messages can be large (a queued message may hold a megabyte of pasted context), so a
 * queue event's rows are loaded lazily: only when some subscription selects them, once per batch
 * (one statement for every queue event of the batch, shared by every subscriber), and only the
 * rows asked for: the changed ones for `queueChange`, the whole queue for `queuedMessages`.
 */

/** A value loaded on first use, then shared (the same promise for every caller). */
export type Lazy<T> = () => Promise<T>;

/** What one event carries, loaded once per batch. */
export interface EventData {
  chat: ChatRow | null;
  message: MessageRow | null;
  /** The chat's whole queue, oldest first (queue events only; loaded on first use). */
  queued: Lazy<QueuedMessageRow[]> | null;
  /** What the event changed in the queue (queue events only): small by design, see QueueChange. */
  queueChange: QueueChange | null;
  modelConfig: ModelConfigRow | null;
}

/**
 * What one queue event changed, from the ids its trigger recorded (migration 0009). `added` and
 * `updated` are the rows still queued when they are loaded (a message promoted since is in
 * `removedIds` of a later event); `length` is the queue's length right after the change. Events
 * written before that migration carry no ids: their lists are empty and `length` is the length
 * at load time.
 */
export interface QueueChange {
  added: Lazy<QueuedMessageRow[]>;
  updated: Lazy<QueuedMessageRow[]>;
  removedIds: string[];
  length: Lazy<number>;
}

/** How the lazy loads retry connection errors (the hub's policy for its own loads). */
export type LoadRetry = <T>(read: () => Promise<T>) => Promise<T>;

const CONFIG_EVENT_KINDS: ReadonlySet<EventKind> = new Set(MODEL_CONFIG_EVENT_KINDS);
const unique = (values: Array<string | null>): string[] => [...new Set(values.filter((v): v is string => v !== null))];
const ids = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Memoises `load`: the first call starts it, every later call gets the same promise (a failure is not cached). */
function lazy<T>(load: () => Promise<T>): Lazy<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return loading;
  };
}

/** The queue rows of one batch's queue events, each kind of read one statement for the whole batch. */
function batchQueues(db: Queryable, retry: LoadRetry, events: ReadonlyArray<{ kind: EventKind; chat_id: string | null; data: Record<string, unknown> }>) {
  const queueEvents = events.filter((e) => e.kind === 'queue' && e.chat_id);
  const chatIds = unique(queueEvents.map((e) => e.chat_id));
  const changedIds = unique(queueEvents.flatMap((e) => [...ids(e.data.added), ...ids(e.data.updated)]));
  const queues = lazy(async () => {
    const byChat = new Map<string, QueuedMessageRow[]>(chatIds.map((id) => [id, []]));
    for (const row of await retry(() => db.queue.listByChats(chatIds))) byChat.get(row.chat_id)?.push(row);
    return byChat;
  });
  const changed = lazy(async () => new Map((changedIds.length > 0 ? await retry(() => db.queue.byIds(changedIds)) : []).map((q) => [q.id, q])));
  return {
    queue: (chatId: string): Lazy<QueuedMessageRow[]> => async () => (await queues()).get(chatId) ?? [],
    change: (chatId: string, data: Record<string, unknown>): QueueChange => {
      const rows = (list: string[]): Lazy<QueuedMessageRow[]> => async () => {
        if (list.length === 0) return [];
        const byId = await changed();
        // Still in this chat's queue when loaded (a row moved to another chat is that chat's now).
        return list.map((id) => byId.get(id)).filter((q): q is QueuedMessageRow => q !== undefined && q.chat_id === chatId);
      };
      return {
        added: rows(ids(data.added)),
        updated: rows(ids(data.updated)),
        removedIds: ids(data.removed),
        length: typeof data.length === 'number' ? async () => data.length as number : async () => (await queues()).get(chatId)?.length ?? 0,
      };
    },
  };
}

/** The process's hub, carrying EventData (`ctx.eventHub`). */
export type ChatEventHub = EventHub<EventData>;

/** The hub's load hook: chats, messages and model configs of a batch, one statement each (only those needed, in parallel); queue rows lazily. */
export function eventDataLoader(db: Queryable, retry: LoadRetry = (read) => read()): EventLoader<EventData> {
  return async (events) => {
    const chatIds = unique(events.map((e) => e.chat_id));
    const messageIds = unique(events.map((e) => e.message_id));
    const configIds = unique(events.filter((e) => CONFIG_EVENT_KINDS.has(e.kind)).map((e) => e.model_config_id));
    const [chats, messages, configs] = await Promise.all([
      chatIds.length > 0 ? db.chats.byIds(chatIds) : [],
      messageIds.length > 0 ? db.messages.byIds(messageIds) : [],
      configIds.length > 0 ? db.modelConfigs.byIds(configIds) : [],
    ]);
    const chatById = new Map(chats.map((c) => [c.id, c]));
    const messageById = new Map(messages.map((m) => [m.id, m]));
    const configById = new Map(configs.map((c) => [c.id, c]));
    const queues = batchQueues(db, retry, events);
    return events.map((e) => {
      const queueEvent = e.kind === 'queue' && e.chat_id !== null;
      return {
        chat: e.chat_id ? chatById.get(e.chat_id) ?? null : null,
        message: e.message_id ? messageById.get(e.message_id) ?? null : null,
        queued: queueEvent ? queues.queue(e.chat_id!) : null,
        queueChange: queueEvent ? queues.change(e.chat_id!, e.data) : null,
        modelConfig: CONFIG_EVENT_KINDS.has(e.kind) && e.model_config_id ? configById.get(e.model_config_id) ?? null : null,
      };
    });
  };
}
