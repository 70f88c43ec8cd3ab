import type { IDatabase, IMain } from 'pg-promise';
import { sql } from '../sql.js';
import type { DiffStatusRow } from '../models.js';

/** Every writable column of a diff status (an upsert carries all of them). */
export type DiffStatusFields = Omit<DiffStatusRow, 'chat_id' | 'created_at' | 'updated_at'>;

const queries = {
  upsert: sql('chat_diff_statuses/upsert.sql'),
};

/** SQL for chat_diff_statuses. */
export class DiffStatusesRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  /** Inserts or fully replaces the diff status of a chat. */
  upsert(chatId: string, d: DiffStatusFields): Promise<DiffStatusRow> {
    return this.db.one(queries.upsert, { ...d, chatId });
  }
}
