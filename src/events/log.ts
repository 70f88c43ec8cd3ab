import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IDatabase, IMain } from 'pg-promise';
import { queryFile } from '../db/sql.js';

/**
 * The log: `chat_events`, written only by the triggers (migrations/0002_watch_triggers.sql and
 * later versions of those functions), read here. Guarantees: every committed change to a watched
 * column has exactly one row; rows are read only once settled (see fetchSettled), so a reader
 * that walks the log in (xid, seq) order from a position never skips and never repeats a row.
 */

/** Stored event kinds on a chat (chat_id and owner_id set); a CHECK constraint pins the column to these lists. */
export const CHAT_EVENT_KINDS = [
  'chat_created', 'status', 'title', 'model_config', 'chat_archived', 'chat_unarchived',
  'message', 'message_deleted', 'queue', 'diff_status',
] as const;

/** Stored event kinds about model configs (global: chat_id and owner_id NULL). */
export const MODEL_CONFIG_EVENT_KINDS = [
  'model_config_created', 'model_config_updated', 'model_config_deleted', 'model_config_default_changed',
] as const;

export type EventKind = (typeof CHAT_EVENT_KINDS)[number] | (typeof MODEL_CONFIG_EVENT_KINDS)[number];

/** The NOTIFY channel the triggers signal; the payload is only the writer's xid. */
export const EVENTS_CHANNEL = 'chatgraph_events';

/** A row of `chat_events`; xid, seq and message_id are 64-bit, so strings. */
export interface EventRow {
  seq: string;
  xid: string;
  kind: EventKind;
  chat_id: string | null;
  owner_id: string | null;
  model_config_id: string | null;
  message_id: string | null;
  /** The chat's version after the change (null for model-config events). */
  version: string | null;
  data: Record<string, unknown>;
  occurred_at: Date;
}

/** A place in the log: events are delivered in (xid, seq) order. */
export interface EventPosition {
  xid: string;
  seq: string;
}

/** The position before every event. */
export const LOG_START: EventPosition = Object.freeze({ xid: '0', seq: '0' });

/** Orders two positions by (xid, seq): negative, zero or positive. */
export function comparePositions(a: EventPosition, b: EventPosition): number {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  if (ax !== bx) return ax < bx ? -1 : 1;
  const as = BigInt(a.seq);
  const bs = BigInt(b.seq);
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/** The position of an event. */
export function positionOf(event: Pick<EventRow, 'xid' | 'seq'>): EventPosition {
  return { xid: event.xid, seq: event.seq };
}

/** Which events a read selects (all when empty); filters combine with AND. */
export interface EventFilter {
  chatId?: string;
  ownerId?: string;
  /** Only the global model-config events. */
  modelConfigsOnly?: boolean;
}

export interface FetchSettledOptions extends EventFilter {
  /** Exclusive lower bound. */
  after: EventPosition;
  /** Inclusive upper bound (a replay stops where the live stream takes over). */
  until?: EventPosition;
  limit: number;
}

/** One page of settled events and what the same snapshot says about the rest of the log. */
export interface SettledPage {
  events: EventRow[];
  /** Committed events after `after` exist that are not settled yet (an older transaction is open). */
  unsettled: boolean;
  /** Events after `after` were pruned: a replay from it would have a gap. */
  expired: boolean;
  /** The prune watermark seen by the same snapshot (null before the first prune). */
  prunedThrough: EventPosition | null;
}

type PageRow = Omit<EventRow, 'seq' | 'xid'> & {
  seq: string | null;
  xid: string | null;
  unsettled: boolean;
  pruned_xid: string | null;
  pruned_seq: string | null;
};

const sqlDir = join(dirname(fileURLToPath(import.meta.url)), 'sql');
const queries = {
  settledAfter: queryFile(join(sqlDir, 'settled_after.sql')),
  head: queryFile(join(sqlDir, 'head.sql')),
  prune: queryFile(join(sqlDir, 'prune.sql')),
};

/** Reads and prunes the chat_events log; attached to every db/task/tx as `db.eventLog`. */
export class EventLogRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  /** Settled events after a position in (xid, seq) order, at most `limit`. */
  async fetchSettled(options: FetchSettledOptions): Promise<SettledPage> {
    const rows = await this.db.many<PageRow>(queries.settledAfter, {
      afterXid: options.after.xid,
      afterSeq: options.after.seq,
      limit: options.limit,
      bounds: this.bounds(options),
    });
    const first = rows[0]!;
    const events: EventRow[] = [];
    for (const { unsettled: _u, pruned_xid: _px, pruned_seq: _ps, ...row } of rows) {
      if (row.seq !== null && row.xid !== null) events.push(row as EventRow);
    }
    const prunedThrough = first.pruned_xid !== null && first.pruned_seq !== null ? { xid: first.pruned_xid, seq: first.pruned_seq } : null;
    return {
      events,
      unsettled: first.unsettled,
      expired: prunedThrough !== null && comparePositions(options.after, prunedThrough) < 0,
      prunedThrough,
    };
  }

  /** The newest settled position: where a reader that wants only new events starts. */
  head(): Promise<EventPosition> {
    return this.db.one<EventPosition>(queries.head);
  }

  /** Deletes up to `limit` settled events that occurred before `before`; returns how many. */
  async pruneBatch(before: Date, limit: number): Promise<number> {
    const row = await this.db.one<{ deleted: number }>(queries.prune, { before, limit });
    return row.deleted;
  }

  /** The highest position retention has deleted (null before the first prune): cursors below it are expired. */
  prunedThrough(): Promise<EventPosition | null> {
    return this.db.oneOrNone<EventPosition>('SELECT xid::text AS xid, seq::text AS seq FROM chat_events_pruned');
  }

  /** The oldest event still in the log (null when empty). */
  oldestRetained(): Promise<EventPosition | null> {
    return this.db.oneOrNone<EventPosition>('SELECT xid::text AS xid, seq::text AS seq FROM chat_events ORDER BY xid, seq LIMIT 1');
  }

  /** Extra WHERE terms for the filter and upper bound, shared by the page and its lookahead. */
  private bounds(options: FetchSettledOptions): string {
    const terms: string[] = [];
    if (options.until) terms.push(this.pgp.as.format('AND (e.xid, e.seq) <= ($1::xid8, $2::bigint)', [options.until.xid, options.until.seq]));
    if (options.chatId !== undefined) terms.push(this.pgp.as.format('AND e.chat_id = $1', [options.chatId]));
    if (options.ownerId !== undefined) terms.push(this.pgp.as.format('AND e.owner_id = $1', [options.ownerId]));
    if (options.modelConfigsOnly) terms.push(this.pgp.as.format('AND e.kind = ANY ($1::text[])', [MODEL_CONFIG_EVENT_KINDS]));
    return terms.join(' ');
  }
}
