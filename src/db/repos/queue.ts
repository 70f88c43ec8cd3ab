import type { IDatabase, IMain } from 'pg-promise';
import { sql } from '../sql.js';
import type { QueuedMessageRow } from '../models.js';

const queries = {
  enqueue: sql('chat_queued_messages/enqueue.sql'),
};

/** SQL for chat_queued_messages. Callers hold the chat row lock (lock the chat row first), which serialises queue changes. */
export class QueueRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  async count(chatId: string): Promise<number> {
    return (await this.db.one<{ n: number }>('SELECT count(*)::int AS n FROM chat_queued_messages WHERE chat_id = $1', [chatId])).n;
  }

  enqueue(input: { chatId: string; content: unknown[]; modelConfigId: string; createdBy: string | null }): Promise<QueuedMessageRow> {
    return this.db.one(queries.enqueue, { ...input, content: JSON.stringify(input.content) });
  }

  /** Removes and returns one queued message of the chat (null if absent). */
  take(chatId: string, id: string): Promise<QueuedMessageRow | null> {
    return this.db.oneOrNone('DELETE FROM chat_queued_messages WHERE chat_id = $1 AND id = $2 RETURNING *', [chatId, id]);
  }

  /** The oldest queued message (next in FIFO order), or null when the queue is empty. */
  oldest(chatId: string): Promise<QueuedMessageRow | null> {
    return this.db.oneOrNone('SELECT * FROM chat_queued_messages WHERE chat_id = $1 ORDER BY id LIMIT 1', [chatId]);
  }

  async clear(chatId: string): Promise<number> {
    return (await this.db.result('DELETE FROM chat_queued_messages WHERE chat_id = $1', [chatId])).rowCount;
  }

  list(chatId: string): Promise<QueuedMessageRow[]> {
    return this.db.any('SELECT * FROM chat_queued_messages WHERE chat_id = $1 ORDER BY id', [chatId]);
  }

  /** Queued messages by id (any chat; missing ids are left out): the changed rows of a batch of queue events. */
  byIds(ids: readonly string[]): Promise<QueuedMessageRow[]> {
    return this.db.any('SELECT * FROM chat_queued_messages WHERE id = ANY($1::bigint[]) ORDER BY id', [ids]);
  }

  /** The queues of several chats (oldest first per chat): one statement for a batch of watch events. */
  listByChats(chatIds: readonly string[]): Promise<QueuedMessageRow[]> {
    return this.db.any('SELECT * FROM chat_queued_messages WHERE chat_id = ANY($1::uuid[]) ORDER BY chat_id, id', [chatIds]);
  }
}
