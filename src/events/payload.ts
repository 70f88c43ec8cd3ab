import type { Queryable } from '../db/index.js';
import type { ChatRow, MessageRow, ModelConfigRow, QueuedMessageRow } from '../db/models.js';
import type { EventHub, EventLoader } from './hub.js';
import { MODEL_CONFIG_EVENT_KINDS, type EventKind } from './log.js';

/**
 * What an event carries to its subscribers, loaded once per process per batch (the hub's load
 * hook, only for events some subscription wants) and shared by every subscriber. The rows are
 * the state when the batch was loaded (for a replay: when it was replayed), not a historic
 * snapshot; the event's kind says what changed.
 */

/** What one event carries, loaded once per batch. */
export interface EventData {
  chat: ChatRow | null;
  message: MessageRow | null;
  /** The chat's whole queue (queue events only). */
  queued: QueuedMessageRow[] | null;
  /** What the event changed in the queue (queue events only): small by design, see QueueChange. */
  queueChange: QueueChange | null;
  modelConfig: ModelConfigRow | null;
}

/**
 * What one queue event changed, from the ids its trigger recorded (migration 0009). `added` and
 * `updated` are the rows still queued when the batch was loaded (a message promoted since is in
 * `removedIds` of a later event); `length` is the queue's length right after the change. Events
 * written before that migration carry no ids: their lists are empty and `length` is the length
 * at load time.
 */
export interface QueueChange {
  added: QueuedMessageRow[];
  updated: QueuedMessageRow[];
  removedIds: string[];
  length: number;
}

const ids = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** A queue event's change, picking its rows out of the chat's loaded queue. */
function queueChange(data: Record<string, unknown>, queue: QueuedMessageRow[]): QueueChange {
  const byId = new Map(queue.map((q) => [q.id, q]));
  const rows = (list: string[]) => list.map((id) => byId.get(id)).filter((q): q is QueuedMessageRow => q !== undefined);
  return {
    added: rows(ids(data.added)),
    updated: rows(ids(data.updated)),
    removedIds: ids(data.removed),
    length: typeof data.length === 'number' ? data.length : queue.length,
  };
}

/** The process's hub, carrying EventData (`ctx.eventHub`). */
export type ChatEventHub = EventHub<EventData>;


const CONFIG_EVENT_KINDS: ReadonlySet<EventKind> = new Set(MODEL_CONFIG_EVENT_KINDS);
const unique = (values: Array<string | null>): string[] => [...new Set(values.filter((v): v is string => v !== null))];

/** The hub's load hook: chats, messages, queues and model configs of a batch, one statement each (only those needed, in parallel). */
export function eventDataLoader(db: Queryable): EventLoader<EventData> {
  return async (events) => {
    const chatIds = unique(events.map((e) => e.chat_id));
    const messageIds = unique(events.map((e) => e.message_id));
    const queueChatIds = unique(events.filter((e) => e.kind === 'queue').map((e) => e.chat_id));
    const configIds = unique(events.filter((e) => CONFIG_EVENT_KINDS.has(e.kind)).map((e) => e.model_config_id));
    const [chats, messages, queued, configs] = await Promise.all([
      chatIds.length > 0 ? db.chats.byIds(chatIds) : [],
      messageIds.length > 0 ? db.messages.byIds(messageIds) : [],
      queueChatIds.length > 0 ? db.queue.listByChats(queueChatIds) : [],
      configIds.length > 0 ? db.modelConfigs.byIds(configIds) : [],
    ]);
    const chatById = new Map(chats.map((c) => [c.id, c]));
    const messageById = new Map(messages.map((m) => [m.id, m]));
    const configById = new Map(configs.map((c) => [c.id, c]));
    const queues = new Map<string, QueuedMessageRow[]>(queueChatIds.map((id) => [id, []]));
    for (const row of queued) queues.get(row.chat_id)?.push(row);
    return events.map((e) => {
      const queue = e.kind === 'queue' && e.chat_id ? queues.get(e.chat_id) ?? [] : null;
      return {
        chat: e.chat_id ? chatById.get(e.chat_id) ?? null : null,
        message: e.message_id ? messageById.get(e.message_id) ?? null : null,
        queued: queue,
        queueChange: queue ? queueChange(e.data, queue) : null,
        modelConfig: CONFIG_EVENT_KINDS.has(e.kind) && e.model_config_id ? configById.get(e.model_config_id) ?? null : null,
      };
    });
  };
}

