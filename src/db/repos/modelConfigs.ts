import type { IDatabase, IMain } from 'pg-promise';

/** A row of `chat_model_configs`; prices are exact decimal strings (USD per 1M tokens) or null. */
export interface ModelConfigRow {
  id: string;
  provider: string;
  model: string;
  display_name: string;
  enabled: boolean;
  is_default: boolean;
  deleted: boolean;
  deleted_at: Date | null;
  context_limit: string;
  compression_threshold: number;
  input_price: string | null;
  output_price: string | null;
  cache_read_price: string | null;
  cache_write_price: string | null;
  created_at: Date;
  updated_at: Date;
}

/** SQL for chat_model_configs. */
export class ModelConfigsRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  /** Live configs, default first then by display name; disabled ones only when asked. */
  list(includeDisabled: boolean): Promise<ModelConfigRow[]> {
    return this.db.any(
      `SELECT * FROM chat_model_configs WHERE NOT deleted AND ($1 OR enabled)
       ORDER BY is_default DESC, display_name, id`,
      [includeDisabled],
    );
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
}
