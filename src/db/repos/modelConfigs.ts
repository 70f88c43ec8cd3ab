import type { IDatabase, IMain } from 'pg-promise';
import { sql } from '../sql.js';
import type { ModelConfigRow } from '../models.js';

const queries = {
  list: sql('chat_model_configs/list.sql'),
  softDelete: sql('chat_model_configs/soft_delete.sql'),
};

/** The database clock as a raw pg-promise value (updated_at follows the server, not this process). */
const NOW = { rawType: true, toPostgres: () => 'now()' };

/** The columns an admin writes (prices as exact decimal strings). */
export type ModelConfigFields = Pick<
  ModelConfigRow,
  | 'provider' | 'model' | 'display_name' | 'enabled' | 'is_default' | 'context_limit' | 'compression_threshold'
  | 'input_price' | 'output_price' | 'cache_read_price' | 'cache_write_price'
>;

/** SQL for chat_model_configs. */
export class ModelConfigsRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  /** Live configs, default first then by display name; disabled ones only when asked. */
  list(includeDisabled: boolean): Promise<ModelConfigRow[]> {
    return this.db.any(queries.list, { includeDisabled });
  }

  byId(id: string): Promise<ModelConfigRow | null> {
    return this.db.oneOrNone('SELECT * FROM chat_model_configs WHERE id = $1', [id]);
  }

  /** The live default (at most one, by a partial unique index). */
  defaultConfig(): Promise<ModelConfigRow | null> {
    return this.db.oneOrNone('SELECT * FROM chat_model_configs WHERE is_default AND NOT deleted AND enabled');
  }

  /** Rows for ids, deleted ones included (old messages still name them). */
  byIds(ids: readonly string[]): Promise<ModelConfigRow[]> {
    return this.db.any('SELECT * FROM chat_model_configs WHERE id = ANY($1::uuid[])', [ids]);
  }

  /**
   * Serialises transactions that move the default (held until commit). Without it two
   * concurrent moves could each clear the old default and then collide on the partial unique index.
   */
  async lockDefault(): Promise<void> {
    await this.db.one("SELECT pg_advisory_xact_lock(hashtext('chat_model_configs.is_default'))");
  }

  /** Takes the default flag from every live config except `keepId`; returns how many lost it. */
  async clearDefault(keepId: string | null): Promise<number> {
    const r = await this.db.result(
      'UPDATE chat_model_configs SET is_default = false, updated_at = now() WHERE is_default AND NOT deleted AND id IS DISTINCT FROM $1',
      [keepId],
    );
    return r.rowCount;
  }

  create(fields: ModelConfigFields): Promise<ModelConfigRow> {
    return this.db.one(`${this.pgp.helpers.insert(fields, null, 'chat_model_configs')} RETURNING *`);
  }

  /** Sets columns of a live config (null when it is absent or deleted). */
  update(id: string, set: Partial<ModelConfigFields>): Promise<ModelConfigRow | null> {
    const assignments = this.pgp.helpers.update({ ...set, updated_at: NOW }, null, 'chat_model_configs');
    return this.db.oneOrNone(`${assignments} WHERE id = $1 AND NOT deleted RETURNING *`, [id]);
  }

  /** Soft-deletes a live config; it also stops being the default. Null when absent or already deleted. */
  softDelete(id: string): Promise<ModelConfigRow | null> {
    return this.db.oneOrNone(queries.softDelete, { id });
  }
}
