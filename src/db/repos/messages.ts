import type { IDatabase, IMain } from 'pg-promise';
import { sql } from '../sql.js';
import type { MessageRole, MessageVisibility, MessageRow } from '../models.js';

/** A message to insert (content is already version-1 parts; cost already computed). */
export interface NewMessage {
  role: MessageRole;
  visibility: MessageVisibility;
  content: unknown[];
  model_config_id: string | null;
  created_by: string | null;
  input_tokens?: string | null;
  output_tokens?: string | null;
  total_tokens?: string | null;
  reasoning_tokens?: string | null;
  cache_creation_tokens?: string | null;
  cache_read_tokens?: string | null;
  context_limit?: string | null;
  total_cost_micros?: string | null;
  runtime_ms?: string | null;
  compressed?: boolean;
}

const queries = {
  insert: sql('chat_messages/insert.sql'),
  pages: sql('chat_messages/pages.sql'),
  prompt: sql('chat_messages/prompt.sql'),
  toolCallState: sql('chat_messages/tool_call_state.sql'),
};

/** A chat's last assistant message and the tool messages after it (raw content, parsed by resolvers). */
export interface ToolCallStateRow {
  chat_id: string;
  message_id: string;
  content: unknown;
  content_version: number;
  visibility: MessageVisibility;
  answers: Array<{ content: unknown; version: number }>;
}

/** SQL for chat_messages. */
export class MessagesRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  /**
   * Inserts messages in order and, in the same statement, sets the chat's last model to
   * `modelConfigId` only if it differs (a same-model insert leaves the chats row untouched).
   */
  insert(chatId: string, messages: NewMessage[], modelConfigId: string | null): Promise<MessageRow[]> {
    const rows = messages.map((m, i) => ({ compressed: false, ...m, ord: i }));
    return this.db.many(queries.insert, { chatId, messages: JSON.stringify(rows), modelConfigId });
  }

  /** Soft-deletes a message and every later one of the chat (edit); returns how many. */
  async softDeleteFrom(chatId: string, messageId: string): Promise<number> {
    const r = await this.db.result('UPDATE chat_messages SET deleted = true WHERE chat_id = $1 AND id >= $2 AND NOT deleted', [chatId, messageId]);
    return r.rowCount;
  }

  byIds(ids: readonly string[]): Promise<MessageRow[]> {
    return this.db.any('SELECT * FROM chat_messages WHERE id = ANY($1::bigint[])', [ids]);
  }

  /**
   * A keyset page of the user-visible, live messages of each chat, by id (ascending; backward =
   * descending), in one statement for the whole batch; rows come grouped by chat.
   */
  pages(chatIds: readonly string[], direction: 'forward' | 'backward', cursor: string | null, limit: number): Promise<MessageRow[]> {
    const keyset = cursor ? this.pgp.as.format(direction === 'forward' ? 'm.id > $1::bigint' : 'm.id < $1::bigint', [cursor]) : 'true';
    return this.db.any(queries.pages, { chatIds, keyset, order: direction === 'forward' ? 'm.id ASC' : 'm.id DESC', limit });
  }

  /** The compaction-aware prompt view (docs/worker-protocol.md) of each chat, in one statement; rows come grouped by chat, by id. */
  prompts(chatIds: readonly string[]): Promise<MessageRow[]> {
    return this.db.any(queries.prompt, { chatIds });
  }

  /** For each chat that has one: its last live assistant message and the live tool messages after it. */
  toolCallState(chatIds: readonly string[]): Promise<ToolCallStateRow[]> {
    return this.db.any(queries.toolCallState, { ids: chatIds });
  }
}
