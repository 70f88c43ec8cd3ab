import DataLoader from 'dataloader';
import { canRead } from '../auth/policy.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/index.js';
import type { ReadRetry } from '../db/retry.js';
import type { ChatExtrasRow, ChatRow, CostTotalsRow, MessageRow, ModelConfigRow, UserRow } from '../db/models.js';
import { emptyExtras, type ExtrasPart } from '../db/repos/chats.js';
import type { ToolCallStateRow } from '../db/repos/messages.js';
import { isRowId, isUuid } from './ids.js';

/**
 * Per-request batch loaders. Created with the context, never shared between requests.
 * They are plain DataLoaders on the context (not the Pothos dataloader plugin's per-type
 * loaders) because resolvers prime them across relations: a chat page primes each chat's model
 * config from the same statement, the viewer primes the user loader, extras prime child chats.
 */
export interface Loaders {
  user: DataLoader<string, UserRow | null>;
  modelConfig: DataLoader<string, ModelConfigRow | null>;
  /** Chats the viewer may see (owner, admin or worker); null otherwise. */
  chat: DataLoader<string, ChatRow | null>;
  /**
   * Diff status, queue, children, last turn or unread flag of a chat, keyed by chat and part:
   * one statement per batch, computing only the parts that were asked for in that batch.
   */
  chatExtras: DataLoader<ExtrasKey, ChatExtrasRow, string>;
  /** Spend of a chat and its children. */
  chatCost: DataLoader<string, CostTotalsRow>;
  message: DataLoader<string, MessageRow | null>;
  /** The last assistant message and the tool answers after it (pendingToolCalls). */
  toolCallState: DataLoader<string, ToolCallStateRow | undefined>;
  /**
   * The user-visible transcript page of each chat for one set of page arguments (every chat of a
   * list asks with the same field arguments): one statement per batch of chats.
   */
  messagePage(direction: 'forward' | 'backward', cursor: string | null, limit: number): DataLoader<string, MessageRow[]>;
  /** The prompt view of each chat: one statement per batch of chats. */
  promptMessages: DataLoader<string, MessageRow[]>;
}

/** Groups batch rows by key, in key order; a key without rows gets an empty list. */
export function groupByKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const groups = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key)!);
}

/** One part of one chat's extras. */
export interface ExtrasKey {
  chatId: string;
  part: ExtrasPart;
}

/** Reorders batch results into key order (DataLoader's contract), filling gaps with `missing`. */
export function byKey<K, V, M = V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K, missing: (key: K) => M): Array<V | M> {
  const map = new Map<K, V>(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => map.get(key) ?? missing(key));
}


/** Ids that cannot exist never reach SQL (a node id can carry any text). */
export const validUuids = (ids: readonly string[]) => ids.filter(isUuid);
const validRowIds = (ids: readonly string[]) => ids.filter(isRowId);

/**
 * Loaders for one request (or one subscription event). Every batch is an idempotent read, so
 * `retry` runs it again on a connection fault (bounded; see src/db/retry.ts).
 */
export function createLoaders(db: Db, viewer: Viewer | null, retry: ReadRetry = (read) => read()): Loaders {
  const user = new DataLoader<string, UserRow | null>(async (ids) => {
    const rows = await retry(() => db.users.byIds(validUuids(ids)));
    return byKey(ids, rows, (r) => r.id, () => null);
  });
  if (viewer) user.prime(viewer.user.id, viewer.user);
  const modelConfig = new DataLoader<string, ModelConfigRow | null>(async (ids) => {
    const rows = await retry(() => db.modelConfigs.byIds(validUuids(ids)));
    return byKey(ids, rows, (r) => r.id, () => null);
  });
  const chat = new DataLoader<string, ChatRow | null>(async (ids) => {
    const rows = await retry(() => db.chats.byIds(validUuids(ids)));
    return byKey(ids, rows, (r) => r.id, () => null).map((row) => (row && canRead(viewer, row) ? row : null));
  });
  const chatExtras = new DataLoader<ExtrasKey, ChatExtrasRow, string>(
    async (keys) => {
      const ids = [...new Set(keys.map((k) => k.chatId))];
      const rows = await retry(() => db.chats.extras(ids, new Set(keys.map((k) => k.part))));
      // Children arrive with their parent: prime the chat loader so they cost no extra statement.
      for (const row of rows) for (const child of row.children) chat.prime(child.id, canRead(viewer, child) ? child : null);
      return byKey(keys.map((k) => k.chatId), rows, (r) => r.id, emptyExtras);
    },
    { cacheKeyFn: (key) => `${key.part}:${key.chatId}` },
  );
  const chatCost = new DataLoader<string, CostTotalsRow>(async (ids) => {
    const rows = await retry(() => db.chats.costTotals(ids));
    return byKey(ids, rows, (r) => r.id, (id) => {
      throw new Error(`cost totals missing for ${id}`);
    });
  });
  const message = new DataLoader<string, MessageRow | null>(async (ids) => {
    const rows = await retry(() => db.messages.byIds(validRowIds(ids)));
    return byKey(ids, rows, (r) => r.id, () => null);
  });
  const pageLoaders = new Map<string, DataLoader<string, MessageRow[]>>();
  const messagePage = (direction: 'forward' | 'backward', cursor: string | null, limit: number) => {
    const signature = `${direction}:${cursor ?? ''}:${limit}`;
    let loader = pageLoaders.get(signature);
    if (!loader) {
      loader = new DataLoader<string, MessageRow[]>(async (ids) => {
        const rows = await db.messages.pages(validUuids(ids), direction, cursor, limit);
        for (const row of rows) message.prime(row.id, row);
        return groupByKey(ids, rows, (r) => r.chat_id);
      });
      pageLoaders.set(signature, loader);
    }
    return loader;
  };
  const promptMessages = new DataLoader<string, MessageRow[]>(async (ids) => {
    const rows = await db.messages.prompts(validUuids(ids));
    return groupByKey(ids, rows, (r) => r.chat_id);
  });
  const toolCallState = new DataLoader<string, ToolCallStateRow | undefined>(async (ids) => {
    const rows = await db.messages.toolCallState(validUuids(ids));
    return byKey(ids, rows, (r) => r.chat_id, () => undefined);
  });
  return { user, modelConfig, chat, chatExtras, chatCost, message, messagePage, promptMessages, toolCallState };
}
