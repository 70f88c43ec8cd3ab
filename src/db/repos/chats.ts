import type { IDatabase, IMain } from 'pg-promise';
import { preparedText, sql } from '../sql.js';
import type { ChatExtrasRow, ChatPageRow, ChatRow, ChatStatus, CostTotalsRow, DiffStatusRow, ModelConfigRow, QueuedMessageRow } from '../models.js';

/** The parts of the extras statement; each costs Postgres work only when an operation selects it. */
export const EXTRAS_PARTS = ['diffStatus', 'queued', 'children', 'lastTurn', 'unread'] as const;
export type ExtrasPart = (typeof EXTRAS_PARTS)[number];

export interface ChatListFilter {
  /** null = every owner (admin listing). */
  ownerId: string | null;
  archived: boolean | null;
  labels: Record<string, unknown> | null;
  includeChildren: boolean;
}

export interface ChatKey {
  updatedUs: string;
  id: string;
}

/**
 * The spend totals select-list (docs/costs.md) over assistant messages aliased `m`, injected raw as
 * `${totals}` into every cost statement (here and in the costs repository), so the counting rules
 * live in one file and the planner still sees plain aggregates: a view would force a chats join
 * onto Chat.cost, a custom aggregate would call a function per row.
 */
/** Extras with every part empty: no diff status, queue, children or last turn, nothing unread. */
export function emptyExtras(id: string): ChatExtrasRow {
  return { id, diff_status: null, queued: [], children: [], last_assistant_content: null, last_assistant_text: null, last_assistant_version: null, has_unread: false };
}

export const costTotalsColumns = sql('chat_messages/cost_totals_columns.sql');

const queries = {
  lock: sql('chats/lock.sql'),
  create: sql('chats/create.sql'),
  update: sql('chats/update.sql'),
  markRead: sql('chats/mark_read.sql'),
  byIds: sql('chats/by_ids.sql'),
  heartbeat: sql('chats/heartbeat.sql'),
  page: sql('chats/page.sql'),
  count: sql('chats/count.sql'),
  extras: sql('chats/extras.sql'),
  extrasParts: {
    diffStatus: sql('chats/extras/diff_status.sql'),
    queued: sql('chats/extras/queued.sql'),
    children: sql('chats/extras/children.sql'),
    lastTurn: sql('chats/extras/last_turn.sql'),
    unread: sql('chats/extras/has_unread.sql'),
  } satisfies Record<ExtrasPart, unknown>,
  costTotals: sql('chats/cost_totals.sql'),
  acquire: sql('chats/acquire.sql'),
  reclaimStale: sql('chats/reclaim_stale.sql'),
  ancestry: sql('chats/ancestry.sql'),
  expireAction: sql('chats/expire_action.sql'),
  notifyOwned: sql('chats/notify_owned.sql'),
  setFamilyArchived: sql('chats/set_family_archived.sql'),
  archivedAncestor: sql('chats/archived_ancestor.sql'),
};

// The dashboard's batch statements have a fixed shape: prepared, they are planned once per connection.
const prepared = {
  costTotals: preparedText(queries.costTotals, ['ids'], { totals: costTotalsColumns }),
};

/**
 * The extras statement for one set of parts, rendered once per set (at most 31) and prepared
 * under a name per set, so each shape is planned once per connection.
 */
const extrasStatements = new Map<number, { name: string; text: string }>();
function extrasStatement(parts: ReadonlySet<ExtrasPart>): { name: string; text: string } {
  const mask = EXTRAS_PARTS.reduce((m, part, i) => (parts.has(part) ? m | (1 << i) : m), 0);
  let statement = extrasStatements.get(mask);
  if (!statement) {
    const columns = EXTRAS_PARTS.filter((p) => parts.has(p)).map((p) => preparedText(queries.extrasParts[p], []));
    statement = { name: `chats-extras-${mask}`, text: preparedText(queries.extras, ['ids'], { columns: columns.join(', ') }) };
    extrasStatements.set(mask, statement);
  }
  return statement;
}

interface LastTurn {
  version: number;
  content: unknown;
  text: string | null;
}

const JSON_DATES = ['created_at', 'updated_at', 'started_at', 'heartbeat_at', 'refreshed_at', 'stale_at', 'deleted_at'] as const;

/** Rows that arrive inside jsonb have ISO strings for timestamps: turn them back into Dates. */
export function reviveDates<T>(row: T): T {
  const r = row as Record<string, unknown>;
  for (const key of JSON_DATES) if (typeof r[key] === 'string') r[key] = new Date(r[key] as string);
  return row;
}

function filterSql(pgp: IMain, f: ChatListFilter): string {
  const parts = ['true'];
  if (f.ownerId !== null) parts.push(pgp.as.format('c.owner_id = $1', [f.ownerId]));
  if (f.archived !== null) parts.push(pgp.as.format('c.archived = $1', [f.archived]));
  if (f.labels !== null) parts.push(pgp.as.format('c.labels @> $1::jsonb', [JSON.stringify(f.labels)]));
  if (!f.includeChildren) parts.push('c.parent_chat_id IS NULL');
  return parts.join(' AND ');
}

/** SQL for chats and the per-chat data shown beside them. */
export class ChatsRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  /** Locks and returns a chat row for the rest of the transaction (lock the chat row first), or null. */
  lock(id: string): Promise<ChatRow | null> {
    return this.db.oneOrNone(queries.lock, { id });
  }

  /** Inserts a chat; a sub-agent names its parent and the family's root. */
  create(input: {
    ownerId: string; title: string; workspaceId: string | null; labels: Record<string, unknown>; modelConfigId: string; status: ChatStatus;
    parentChatId?: string | null; rootChatId?: string | null;
  }): Promise<ChatRow> {
    return this.db.one(queries.create, { parentChatId: null, rootChatId: null, ...input, labels: JSON.stringify(input.labels) });
  }

  /**
   * How deep a chat sits in its family (0 = root), walking up the parent chain at most `limit`
   * levels: `tooDeep` when the walk was cut short, `cycle` when it met an id twice.
   */
  async ancestry(id: string, limit: number): Promise<{ depth: number; cycle: boolean; tooDeep: boolean } | null> {
    const row = await this.db.one<{ depth: number | null; cycle: boolean | null; too_deep: boolean | null }>(queries.ancestry, { id, limit });
    return row.depth === null ? null : { depth: row.depth, cycle: row.cycle === true, tooDeep: row.too_deep === true };
  }

  /**
   * For each batch, NOTIFYs its payloads on `channel` if its worker runs its chat: the ownership
   * check and the send are one atomic statement for all batches. Returns, per batch, whether it
   * was sent. No row is written.
   */
  async notifyOwned(channel: string, batches: ReadonlyArray<{ chatId: string; workerId: string; payloads: readonly string[] }>): Promise<boolean[]> {
    const batchOf: number[] = [];
    const payloads: string[] = [];
    batches.forEach((b, i) => b.payloads.forEach((p) => (batchOf.push(i + 1), payloads.push(p))));
    const row = await this.db.one<{ owned: number[] }>(queries.notifyOwned, {
      channel, chatIds: batches.map((b) => b.chatId), workerIds: batches.map((b) => b.workerId), batchOf, payloads,
    });
    const owned = new Set(row.owned);
    return batches.map((_, i) => owned.has(i + 1));
  }

  /** NOTIFYs every payload on `channel` (sent when the transaction commits). */
  async notify(channel: string, payloads: readonly string[]): Promise<void> {
    await this.db.any('SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p', [channel, payloads]);
  }

  /** Live children of a chat (for the per-parent limit). */
  async childCount(id: string): Promise<number> {
    const row = await this.db.one<{ n: number }>('SELECT count(*)::int AS n FROM chats WHERE parent_chat_id = $1', [id]);
    return row.n;
  }

  /** Moves chats that waited in requires_action longer than `seconds` to error with `lastError`; returns their ids. */
  async expireRequiresAction(seconds: number, lastError: string): Promise<string[]> {
    const rows = await this.db.any<{ id: string }>(queries.expireAction, { seconds, lastError });
    return rows.map((r) => r.id);
  }

  /**
   * Sets columns of one chat and bumps updated_at. The status and errors rule lives here: a transition to error
   * stores last_error, any other status change clears it. Leaving the running state clears the
   * worker claim.
   */
  update(
    id: string,
    set: Partial<{ status: ChatStatus; lastError: string | null; title: string; labels: Record<string, unknown>; pinOrder: number; lastReadMessageId: string; workerId: string | null }>,
  ): Promise<ChatRow> {
    const cols: string[] = ['updated_at = now()'];
    const v: Record<string, unknown> = { ...set };
    if (set.status !== undefined) {
      cols.push('status = $(status)');
      cols.push(set.status === 'error' ? 'last_error = $(lastError)' : 'last_error = NULL');
      if (set.status !== 'running') cols.push('worker_id = NULL', 'started_at = NULL', 'heartbeat_at = NULL');
    }
    if (set.title !== undefined) cols.push('title = $(title)');
    if (set.labels !== undefined) {
      cols.push('labels = $(labelsJson)::jsonb');
      v.labelsJson = JSON.stringify(set.labels);
    }
    if (set.pinOrder !== undefined) cols.push('pin_order = $(pinOrder)');
    if (set.lastReadMessageId !== undefined) cols.push('last_read_message_id = $(lastReadMessageId)');
    return this.db.one(queries.update, { id, assignments: this.pgp.as.format(cols.join(', '), v) });
  }

  /**
   * Archives or unarchives a chat and every sub-agent below it, at any depth, in one statement
   * (archive covers the family): archived members that were pending or running become waiting. For a root that is
   * the whole family.
   */
  setFamilyArchived(id: string, archived: boolean): Promise<ChatRow[]> {
    return this.db.any(queries.setFamilyArchived, { id, archived });
  }

  /** The id of an archived ancestor of the chat (parent chain walked up, cycle-safe), or null. */
  async archivedAncestor(id: string): Promise<string | null> {
    return (await this.db.oneOrNone<{ id: string }>(queries.archivedAncestor, { id }))?.id ?? null;
  }

  /**
   * Moves the read marker forward (never back) without bumping updated_at, so reading a chat
   * does not reorder the chat list. null = the newest message.
   */
  markRead(id: string, messageId: string | null): Promise<ChatRow> {
    return this.db.one(queries.markRead, { id, messageId });
  }

  /** Rows for `ids` (any order); the caller applies visibility. */
  byIds(ids: readonly string[]): Promise<ChatRow[]> {
    return this.db.any(queries.byIds, { ids });
  }

  /**
   * One keyset page in (updated_at, id) DESC order. Backward pages walk the index the other way
   * and come back reversed; `limit` includes the one extra row that tells if another page exists.
   */
  async page(
    filter: ChatListFilter,
    direction: 'forward' | 'backward',
    cursor: ChatKey | null,
    limit: number,
    withCount: boolean,
  ): Promise<{ rows: ChatRow[]; modelConfigs: ModelConfigRow[]; totalCount: number | null }> {
    const op = direction === 'forward' ? '<' : '>';
    const keyset = cursor
      ? this.pgp.as.format(`(c.updated_at, c.id) ${op} ('epoch'::timestamptz + $1::bigint * interval '1 microsecond', $2::uuid)`, [cursor.updatedUs, cursor.id])
      : 'true';
    const order = direction === 'forward' ? 'c.updated_at DESC, c.id DESC' : 'c.updated_at ASC, c.id ASC';
    const where = filterSql(this.pgp, filter);
    // The count is an uncorrelated scalar subquery: Postgres runs it once per statement.
    const countSql = withCount ? `(SELECT count(*) FROM chats c WHERE ${where})::int` : 'NULL::int';
    const page = await this.db.any<ChatPageRow>(queries.page, { filter: where, keyset, order, limit, countSql });
    const modelConfigs = page.map(({ model_config }) => reviveDates(model_config));
    const rows = page.map(({ model_config: _m, total_count: _t, ...chat }) => chat);
    return { rows, modelConfigs, totalCount: page[0]?.total_count ?? (withCount ? 0 : null) };
  }

  async count(filter: ChatListFilter): Promise<number> {
    const row = await this.db.one<{ n: number }>(queries.count, { filter: filterSql(this.pgp, filter) });
    return row.n;
  }

  /**
   * Diff status, queue, children, last assistant turn and unread flag for each chat, in one
   * statement that computes only `parts` (the rest hold their empty value).
   */
  async extras(ids: readonly string[], parts: ReadonlySet<ExtrasPart>): Promise<ChatExtrasRow[]> {
    if (parts.size === 0) return ids.map((id) => emptyExtras(id));
    type Raw = { id: string; diff_status?: DiffStatusRow | null; queued?: QueuedMessageRow[]; children?: ChatRow[]; last_turn?: LastTurn | null; has_unread?: boolean };
    const rows = await this.db.any<Raw>({ ...extrasStatement(parts), values: [ids] });
    return rows.map((raw) => {
      const row = emptyExtras(raw.id);
      if (raw.diff_status) row.diff_status = reviveDates(raw.diff_status);
      if (raw.queued) row.queued = raw.queued.map(reviveDates);
      if (raw.children) row.children = raw.children.map(reviveDates);
      if (raw.last_turn) {
        row.last_assistant_version = raw.last_turn.version;
        row.last_assistant_content = raw.last_turn.content;
        row.last_assistant_text = raw.last_turn.text;
      }
      if (raw.has_unread !== undefined) row.has_unread = raw.has_unread;
      return row;
    });
  }

  /** Moves up to `limit` pending, live chats to running for `workerId` in one statement, oldest-updated first (may return fewer, or none). */
  async acquire(workerId: string, limit: number): Promise<ChatRow[]> {
    const rows = await this.db.any<ChatRow & { queued_at: Date }>(queries.acquire, { workerId, limit });
    return rows.map(({ queued_at: _q, ...chat }) => chat);
  }

  /**
   * Refreshes heartbeat_at of the chats among `ids` that `workerId` is running, and returns
   * their ids. updated_at stays put: a heartbeat must not reorder the chat list (and the event
   * trigger ignores it).
   */
  async heartbeat(workerId: string, ids: readonly string[]): Promise<string[]> {
    const rows = await this.db.any<{ id: string }>(queries.heartbeat, { workerId, ids });
    return rows.map((r) => r.id);
  }

  /** Returns running chats with a heartbeat older than `staleSeconds` to pending (stale runs), naming the worker that lost each. */
  reclaimStale(staleSeconds: number): Promise<Array<ChatRow & { previous_worker_id: string | null }>> {
    return this.db.any(queries.reclaimStale, { staleSeconds });
  }

  /** Cost totals of each chat including its children. */
  costTotals(ids: readonly string[]): Promise<Array<CostTotalsRow & { id: string }>> {
    return this.db.any({ name: 'chats-cost-totals', text: prepared.costTotals, values: [ids] });
  }
}
