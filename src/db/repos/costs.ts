import type { IDatabase, IMain } from 'pg-promise';
import { sql } from '../sql.js';
import { reviveDates } from './chats.js';
import type { UserRow, CostTotalsRow } from '../models.js';

const queries = {
  summary: sql('chat_messages/cost_summary.sql'),
  users: sql('chat_messages/cost_users.sql'),
};

/** Fragments shared by both statements: the range split, the spend totals and a message as a spend row. */
const fragments = {
  totals: sql('chat_messages/cost_rollup_totals_columns.sql'),
  row: sql('chat_messages/cost_row_columns.sql'),
  range: sql('chat_messages/cost_range.sql'),
};

/** The fragments rendered for one range (the range split takes the bounds as values). */
export function costFragments(pgp: IMain, start: Date, end: Date): { totals: string; row: string; range: string } {
  return { totals: pgp.as.format(fragments.totals), row: pgp.as.format(fragments.row), range: pgp.as.format(fragments.range, { start, end }) };
}

/** Spend of one model config within a summary (null id: messages without a model). */
export interface ModelCostRow extends CostTotalsRow {
  model_config_id: string | null;
  display_name: string | null;
  provider: string | null;
  model: string | null;
}

/** Spend of one root chat and its children within a summary. */
export interface ChatCostRow extends CostTotalsRow {
  root_chat_id: string;
  chat_title: string;
}

/** A user's spend in a range: totals plus per-model and per-root-chat breakdowns, cost descending. */
export interface CostSummaryRows {
  totals: CostTotalsRow;
  byModel: ModelCostRow[];
  byChat: ChatCostRow[];
}

/** One user's line of the admin rollup; `cost` is the exact sort key (numeric as text). */
export interface UserCostRow extends CostTotalsRow {
  user: UserRow;
  cost: string;
  chat_count: number;
}

/** Keyset position in the rollup's (cost DESC, username) order. */
export interface UserCostKey {
  cost: string;
  username: string;
}

export interface UserCostFilter {
  start: Date;
  end: Date;
  /** Case-insensitive substring of username or name, taken literally (LIKE wildcards escaped). */
  search: string | null;
}

type SummaryRow = CostTotalsRow & ModelCostRow & ChatCostRow & { section: 'total' | 'model' | 'chat'; cost: string };

/** A LIKE pattern matching `text` as a literal substring (backslash is LIKE's default escape). */
export function likeSubstring(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Strips a row to the CostTotalsRow columns, so a breakdown's `totals` exposes nothing else. */
function totalsOf(row: CostTotalsRow): CostTotalsRow {
  return {
    total_cost_micros: row.total_cost_micros,
    priced_message_count: row.priced_message_count,
    unpriced_message_count: row.unpriced_message_count,
    total_input_tokens: row.total_input_tokens,
    total_output_tokens: row.total_output_tokens,
    total_cache_read_tokens: row.total_cache_read_tokens,
    total_cache_creation_tokens: row.total_cache_creation_tokens,
    total_runtime_ms: row.total_runtime_ms,
    message_count: row.message_count,
  };
}

/** SQL for cost analytics: aggregation happens in Postgres, only result rows reach Node. */
export class CostsRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  /** Totals, by model and by root chat for `userId` in [start, end): one statement. */
  async summary(userId: string, start: Date, end: Date): Promise<CostSummaryRows> {
    const rows = await this.db.any<SummaryRow>(queries.summary, { ...costFragments(this.pgp, start, end), userId });
    const total = rows.find((r) => r.section === 'total');
    // The empty grouping set yields its row even without messages; guard anyway.
    if (!total) throw new Error('cost summary returned no totals row');
    return {
      totals: totalsOf(total),
      byModel: rows
        .filter((r) => r.section === 'model')
        .map((r) => ({ ...totalsOf(r), model_config_id: r.model_config_id, display_name: r.display_name, provider: r.provider, model: r.model })),
      byChat: rows.filter((r) => r.section === 'chat').map((r) => ({ ...totalsOf(r), root_chat_id: r.root_chat_id, chat_title: r.chat_title })),
    };
  }

  /** One page (`limit` rows after `after`) of the per-user rollup and the filter's total: one statement. */
  async users(filter: UserCostFilter, after: UserCostKey | null, limit: number): Promise<{ rows: UserCostRow[]; totalCount: number }> {
    const rows = await this.db.any<UserCostRow & { total_count: number; owner_id: string | null }>(queries.users, {
      ...costFragments(this.pgp, filter.start, filter.end),
      pattern: filter.search === null ? null : likeSubstring(filter.search),
      afterCost: after?.cost ?? null,
      afterUsername: after?.username ?? null,
      limit,
    });
    const totalCount = rows[0]?.total_count ?? 0;
    const page = rows
      .filter((r) => r.owner_id !== null) // the total-only row of an empty page
      .map((r) => ({ ...totalsOf(r), user: reviveDates(r.user), cost: r.cost, chat_count: r.chat_count }));
    return { rows: page, totalCount };
  }
}
