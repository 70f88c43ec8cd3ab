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
  modelConfig: ModelConfigRow | null;
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
    return events.map((e) => ({
      chat: e.chat_id ? chatById.get(e.chat_id) ?? null : null,
      message: e.message_id ? messageById.get(e.message_id) ?? null : null,
      queued: e.kind === 'queue' && e.chat_id ? queues.get(e.chat_id) ?? [] : null,
      modelConfig: CONFIG_EVENT_KINDS.has(e.kind) && e.model_config_id ? configById.get(e.model_config_id) ?? null : null,
    }));
  };
}

