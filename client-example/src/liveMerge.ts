import type { Exchange, Operation, OperationResult } from '@urql/core';
import type { Cache, KeyingConfig, UpdatesConfig } from '@urql/exchange-graphcache';
import { filter, map, pipe } from 'wonka';
import type { ChatEventsSubscription, ChatListFields, ChatStateFields, ChatSummaryFields, ChatWatchSubscription, MessageFields } from './documents.js';
import type { FragmentOf, ResultOf } from './graphql.js';
import { PreviewStore, type PartDelta } from './preview.js';

/**
 * The live merge: how `chatWatch` and `chatEvents` events change the urql (graphcache) cache.
 * This is the file to copy into another UI. The rules, in the order an event meets them:
 *
 * 1. Duplicates: an event whose cursor this stream already processed is dropped (a replay after
 *    a reconnect can overlap what arrived just before the socket closed).
 * 2. Stale guard: every Chat that passes through the client (queries, mutations, events) leaves
 *    its version behind (`updatedAt` where a result has no version). An event whose version is
 *    lower than the one the client holds changes nothing: the client already has newer state
 *    (a query or mutation answered after the event was written, say). The event's own
 *    `version` counts, not its chat snapshot's: the snapshot is loaded when the event is
 *    delivered and may be newer than the change the event is about. Messages are ordered by
 *    id, not by version, so a message is appended whatever the version beside it.
 * 3. By kind: an event changes only the fields its kind is about (a status event the status, a
 *    diff event the PR card, a model event the model), whatever else its chat snapshot holds.
 *    A chatEvents QUEUE_UPDATE changes no snapshot field: its chat snapshot leaves the queue out.
 * 4. Lists: CREATED (also sent for an unarchive) puts a chat into the loaded chat lists or under
 *    its parent, DELETED (archived) takes it out; MESSAGE appends to the transcript.
 * 4a. Queue changes: a QUEUE_UPDATE carries the small form, `queueChange` (what it added,
 *    updated and removed, and the queue's length after it), never the whole queue. It is applied
 *    to the cached `Chat.queuedMessages` (applyQueueChange): drop `removedIds`, the `updated`
 *    messages are rewritten in place (normalized by id), append `added` oldest first, skipping
 *    any already held (a replay or the mutation's own answer). When the result's length is not
 *    `length` (the client missed a change, or a message added was promoted before delivery), or
 *    the queue was never loaded, the field is invalidated so the active queries refetch it
 *    (the chat view's query has no chat until then: ChatView keeps showing the one it had).
 *    Rules 1 and 2 still come first: a duplicate or stale QUEUE_UPDATE changes nothing.
 *    (chatWatch QUEUE_CHANGE, for the sidebar's `queuedMessages { id }`, still carries the
 *    ids in its snapshot, taken by rule 3.)
 * 4b. Previews: MESSAGE_PART / PREVIEW_RESET are live only (no cursor of their own, never
 *    replayed): they skip rules 1–3 and go to `previews` (preview.ts), never to the cache; the
 *    stored assistant MESSAGE drops the preview it supersedes.
 * 5. Resume: the stream's last cursor is kept here; `resumingSubscriptions` (resume.ts)
 *    subscribes again with `after: cursor` after a disconnect, so nothing is missed.
 *
 * Components never merge events themselves: they read queries, and the cache does the rest.
 */

export type ChatSummary = FragmentOf<typeof ChatSummaryFields>;
export type ChatListItem = FragmentOf<typeof ChatListFields>;
export type Message = FragmentOf<typeof MessageFields>;
export type WatchEvent = ResultOf<typeof ChatWatchSubscription>['chatWatch'];
export type StreamEvent = ResultOf<typeof ChatEventsSubscription>['chatEvents'];
export type ChatState = FragmentOf<typeof ChatStateFields>;
export type QueueChange = NonNullable<StreamEvent['queueChange']>;
type ChatField = Exclude<keyof ChatSummary, 'id' | 'updatedAt'>;
/** The fields of a chatEvents snapshot: no queue (QUEUE_UPDATE carries `queueChange` instead). */
type StreamChatField = Exclude<keyof ChatState, 'id' | 'updatedAt'>;

const STATUS_FIELDS = ['status', 'lastError', 'lastTurnSummary', 'hasUnread'] as const satisfies readonly ChatField[];

/** The chat fields each `chatWatch` kind may change ('all': a chat the list has not seen). */
export const WATCH_KIND_FIELDS: Record<WatchEvent['kind'], readonly ChatField[] | 'all'> = {
  CREATED: 'all',
  DELETED: ['archived', 'status'],
  STATUS_CHANGE: STATUS_FIELDS,
  ACTION_REQUIRED: STATUS_FIELDS,
  TITLE_CHANGE: ['title'],
  DIFF_STATUS_CHANGE: ['diffStatus'],
  MODEL_CONFIG_CHANGE: ['lastModelConfig'],
  QUEUE_CHANGE: ['queuedMessages'],
};

/** The chat fields each `chatEvents` kind may change. */
export const STREAM_KIND_FIELDS: Record<StreamEvent['kind'], readonly StreamChatField[]> = {
  MESSAGE: ['lastTurnSummary', 'hasUnread'],
  MESSAGE_DELETED: ['lastTurnSummary'],
  STATUS: STATUS_FIELDS,
  // The queue is not in the snapshot: `queueChange` is applied by applyQueueChange (rule 4a).
  QUEUE_UPDATE: [],
  DIFF_STATUS: ['diffStatus'],
  MODEL_CONFIG: ['lastModelConfig'],
  TITLE: ['title'],
  ARCHIVED: ['archived', 'status'],
  // About the sub-agent in `child` (reduceChildUpdate), placed under its parent.
  CHILD_UPDATE: [],
  // Streamed parts and their reset live in the preview store (rule 4b), never in the cache.
  MESSAGE_PART: [],
  PREVIEW_RESET: [],
};

/** How fresh a chat snapshot is: its version once the API sends one, else its updatedAt. */
export interface Freshness {
  version?: bigint;
  updatedAt: number;
}

export function freshnessOf(chat: { updatedAt?: unknown; version?: unknown }): Freshness | undefined {
  if (typeof chat.updatedAt !== 'string') return undefined;
  const version = typeof chat.version === 'number' || typeof chat.version === 'string' ? BigInt(chat.version) : undefined;
  return { updatedAt: Date.parse(chat.updatedAt), ...(version !== undefined ? { version } : {}) };
}

/** True when `incoming` is older than `known` (equal is not older: it may carry another kind's field). */
export function isOlder(incoming: Freshness, known: Freshness): boolean {
  if (incoming.version !== undefined && known.version !== undefined) return incoming.version < known.version;
  return incoming.updatedAt < known.updatedAt;
}

type AnyEvent = { cursor: string; kind: string; version?: unknown; chat: { id: string; updatedAt: string; version?: unknown; [field: string]: unknown } };

/** How fresh the change an event is about is: the event's version (the chat's after that change). */
export function eventFreshness(event: AnyEvent): Freshness | undefined {
  return freshnessOf({ updatedAt: event.chat.updatedAt, version: event.version ?? event.chat.version });
}

/** What the merge decided about one event. */
export type Verdict = 'apply' | 'stale' | 'duplicate';

const SEEN_CURSORS = 500;

/** The client's memory: freshness per chat and the last cursors per stream. */
export class LiveMerge {
  /** The messages being generated, per chat. */
  readonly previews = new PreviewStore();
  private readonly known = new Map<string, Freshness>();
  private readonly streams = new Map<string, { last?: string; seen: Set<string> }>();

  /** Records the freshness of every Chat in a result (query, mutation or event). */
  observe(data: unknown): void {
    const visit = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (!value || typeof value !== 'object') return;
      const record = value as Record<string, unknown>;
      if (record.__typename === 'Chat' && typeof record.id === 'string') {
        const fresh = freshnessOf(record);
        const known = this.known.get(record.id);
        if (fresh && (!known || isOlder(known, fresh))) this.known.set(record.id, fresh);
      }
      Object.values(record).forEach(visit);
    };
    visit(data);
  }

  /** The freshness the client holds for a chat, if it has seen it. */
  freshness(chatId: string): Freshness | undefined {
    return this.known.get(chatId);
  }

  /** Decides about one event of `stream` and records its cursor. */
  accept(stream: string, event: AnyEvent): Verdict {
    const state = this.streams.get(stream) ?? { seen: new Set<string>() };
    this.streams.set(stream, state);
    if (state.seen.has(event.cursor)) return 'duplicate';
    state.seen.add(event.cursor);
    if (state.seen.size > SEEN_CURSORS) state.seen.delete(state.seen.values().next().value!);
    state.last = event.cursor;
    const known = this.known.get(event.chat.id);
    const incoming = eventFreshness(event);
    return known && incoming && isOlder(incoming, known) ? 'stale' : 'apply';
  }

  /** The cursor to resume `stream` from (`after`), if it received anything. */
  cursor(stream: string): string | undefined {
    return this.streams.get(stream)?.last;
  }

  /** Starts `stream` from a cursor kept elsewhere (the watcher's cursor file). */
  resumeFrom(stream: string, cursor: string): void {
    this.streams.set(stream, { last: cursor, seen: new Set([cursor]) });
  }

  /** Forgets a stream's cursor (the server said it expired: refetch, then subscribe afresh). */
  forget(stream: string): void {
    this.streams.delete(stream);
  }

  /**
   * The event as the cache should see it, or null when it must change nothing. The chat keeps
   * only its id, its freshness and the fields of the event's kind; a chat the client has never
   * seen is taken whole.
   */
  reduce<E extends AnyEvent>(stream: string, event: E, fields: readonly ChatField[] | 'all'): E | null {
    const firstSight = !this.known.has(event.chat.id);
    const verdict = this.accept(stream, event);
    const keepsMessage = 'message' in event && event.message != null;
    if (verdict === 'duplicate' || (verdict === 'stale' && !keepsMessage)) return null;
    if (fields === 'all' || firstSight) return event;
    const chat: Record<string, unknown> = { __typename: 'Chat', id: event.chat.id };
    if (verdict === 'apply') {
      // The cache keeps the event's version, not the snapshot's: changes between the two are
      // still to come as their own events, and must not look stale when they do.
      chat.updatedAt = event.chat.updatedAt;
      const version = event.version ?? event.chat.version;
      if (version !== undefined) chat.version = version;
      for (const field of fields) if (field in event.chat) chat[field] = event.chat[field];
    }
    return { ...event, chat: chat as E['chat'] };
  }
}

/** The stream an operation feeds: `chatWatch`, or `chatEvents:<chat id>` (others: its root field). */
export function streamKey(operation: Pick<Operation, 'query' | 'variables'>): string {
  const definition = operation.query.definitions.find((d) => d.kind === 'OperationDefinition');
  const first = definition?.kind === 'OperationDefinition' ? definition.selectionSet.selections[0] : undefined;
  const field = first?.kind === 'Field' ? first.name.value : 'unknown';
  return field === 'chatEvents' ? `chatEvents:${String((operation.variables as { chatId?: unknown }).chatId)}` : field;
}

/**
 * The urql exchange that applies rules 1–3. It sits between graphcache and the transports, so
 * it sees every result before the cache writes it: stale and duplicate events never reach the
 * cache, and the rest reach it cut down to their kind's fields.
 */
export function liveMergeExchange(merge: LiveMerge): Exchange {
  return ({ forward }) => (operations$) =>
    pipe(
      forward(operations$),
      map((result: OperationResult): OperationResult | null => {
        const data = result.data as { chatWatch?: WatchEvent; chatEvents?: StreamEvent } | null | undefined;
        if (result.operation.kind !== 'subscription' || !data) {
          merge.observe(data);
          return result;
        }
        let reduced: OperationResult | null = result;
        if (data.chatWatch) {
          const event = merge.reduce(streamKey(result.operation), data.chatWatch, WATCH_KIND_FIELDS[data.chatWatch.kind]);
          reduced = event ? { ...result, data: { ...data, chatWatch: event } } : null;
        } else if (data.chatEvents) {
          if (routePreview(merge.previews, data.chatEvents)) return null;
          if (data.chatEvents.kind === 'CHILD_UPDATE') {
            const event = reduceChildUpdate(merge, streamKey(result.operation), data.chatEvents);
            reduced = event ? { ...result, data: { ...data, chatEvents: event } } : null;
            if (reduced) merge.observe(reduced.data);
            return reduced;
          }
          const event = merge.reduce(streamKey(result.operation), data.chatEvents, STREAM_KIND_FIELDS[data.chatEvents.kind]);
          reduced = event ? { ...result, data: { ...data, chatEvents: event } } : null;
        }
        if (reduced) merge.observe(reduced.data);
        return reduced;
      }),
      filter((result): result is OperationResult => result !== null),
    );
}

type PreviewEvent = { kind: string; chat: { id: string }; attempt?: number | null; seq?: number | null; parts?: readonly PartDelta[] | null; message?: { role?: string } | null };

/** Rule 4b; true when the event was a preview event (and must not reach the cache). */
function routePreview(previews: PreviewStore, event: PreviewEvent): boolean {
  if (event.kind === 'MESSAGE_PART') {
    previews.part(event.chat.id, event.attempt ?? 0, event.seq ?? 0, event.parts ?? []);
    return true;
  }
  if (event.kind === 'PREVIEW_RESET') {
    previews.drop(event.chat.id);
    return true;
  }
  if (event.kind === 'MESSAGE' && event.message?.role === 'ASSISTANT') previews.drop(event.chat.id);
  return false;
}

/**
 * CHILD_UPDATE is about the sub-agent in `child`, not the subscribed parent: the stale guard
 * compares the child's version, the child is written whole (its snapshot is current, so later
 * changes to it are included) and the parent is left alone.
 */
function reduceChildUpdate(merge: LiveMerge, stream: string, event: StreamEvent): StreamEvent | null {
  if (!event.child) return null;
  const verdict = merge.accept(stream, { cursor: event.cursor, kind: event.kind, version: event.version, chat: event.child });
  if (verdict !== 'apply') return null;
  return { ...event, chat: { __typename: 'Chat', id: event.chat.id } as unknown as StreamEvent['chat'] };
}

// ---- rule 4: lists -------------------------------------------------------------------------

type ChatPlacement = { id: string; archived?: boolean; parent?: { id: string } | null };

/** Puts a chat into, or takes it out of, every loaded chat list and its parent's children. */
export function placeChat(cache: Cache, chat: ChatPlacement): void {
  const chatKey = cache.keyOfEntity({ __typename: 'Chat', id: chat.id });
  if (!chatKey) return;
  const archived = chat.archived ?? (cache.resolve(chatKey, 'archived') as boolean | null) ?? false;
  const parentId = chat.parent?.id ?? (cache.resolve(cache.resolve(chatKey, 'parent') as string | null, 'id') as string | null);
  if (parentId) {
    const parentKey = cache.keyOfEntity({ __typename: 'Chat', id: parentId });
    const children = (cache.resolve(parentKey, 'children') as string[] | null) ?? null;
    if (children && !children.includes(chatKey)) cache.link(parentKey!, 'children', [...children, chatKey]);
    return;
  }
  const lists = cache.inspectFields('Query').filter((field) => field.fieldName === 'chats');
  for (const field of lists) {
    const filterArg = field.arguments?.archived as boolean | null | undefined;
    const belongs = filterArg == null || filterArg === archived;
    const connection = cache.resolve('Query', field.fieldKey) as string | null;
    const nodes = (cache.resolve(connection, 'nodes') as string[] | null) ?? null;
    if (!connection || !nodes) continue;
    if (!belongs && nodes.includes(chatKey)) cache.link(connection, 'nodes', nodes.filter((key) => key !== chatKey));
    // New chats are the most recently updated: they go first on the first page.
    const firstPage = field.arguments?.after == null;
    if (belongs && firstPage && !listedOnAnyPage(cache, lists, filterArg, chatKey)) cache.link(connection, 'nodes', [chatKey, ...nodes]);
  }
}

function listedOnAnyPage(cache: Cache, lists: ReturnType<Cache['inspectFields']>, filterArg: boolean | null | undefined, chatKey: string): boolean {
  return lists
    .filter((field) => (field.arguments?.archived as boolean | null | undefined) == filterArg)
    .some((field) => ((cache.resolve(cache.resolve('Query', field.fieldKey) as string | null, 'nodes') as string[] | null) ?? []).includes(chatKey));
}

/** Appends a message to the newest loaded transcript page of its chat (once). */
export function appendMessage(cache: Cache, chatId: string, message: { id: string }): void {
  const chatKey = cache.keyOfEntity({ __typename: 'Chat', id: chatId });
  const messageKey = cache.keyOfEntity({ __typename: 'ChatMessage', id: message.id });
  if (!chatKey || !messageKey) return;
  const pages = cache.inspectFields(chatKey).filter((f) => f.fieldName === 'messages');
  const listed = pages.some((f) => ((cache.resolve(cache.resolve(chatKey, f.fieldKey) as string | null, 'nodes') as string[] | null) ?? []).includes(messageKey));
  // Earlier pages (`before`) are older by definition: a new message belongs on the newest.
  for (const field of pages.filter((f) => f.arguments?.before == null)) {
    const connection = cache.resolve(chatKey, field.fieldKey) as string | null;
    const nodes = cache.resolve(connection, 'nodes') as string[] | null;
    if (connection && nodes && !listed) cache.link(connection, 'nodes', [...nodes, messageKey]);
  }
}

/** Takes a message out of every loaded transcript of its chat (it was edited away). */
export function removeMessage(cache: Cache, chatId: string, message: { id: string }): void {
  const chatKey = cache.keyOfEntity({ __typename: 'Chat', id: chatId });
  const messageKey = cache.keyOfEntity({ __typename: 'ChatMessage', id: message.id });
  if (!chatKey || !messageKey) return;
  for (const field of cache.inspectFields(chatKey).filter((f) => f.fieldName === 'messages')) {
    const connection = cache.resolve(chatKey, field.fieldKey) as string | null;
    const nodes = cache.resolve(connection, 'nodes') as string[] | null;
    if (connection && nodes?.includes(messageKey)) cache.link(connection, 'nodes', nodes.filter((key) => key !== messageKey));
  }
}

// ---- rule 4a: queue changes -----------------------------------------------------------------

/**
 * Applies a QUEUE_UPDATE's `queueChange` to the chat's cached queue (`Chat.queuedMessages`, the
 * link the chat view and the sidebar share). Idempotent: a message already held is not added
 * twice, an id already gone is not missed. The `updated` messages need no list change: the
 * event's result rewrites them in the cache by id. When the queue this leaves is not `length`
 * long, or no queue was loaded, the field is invalidated and the query showing it refetches.
 */
export function applyQueueChange(cache: Cache, chatId: string, change: QueueChange): void {
  const chatKey = cache.keyOfEntity({ __typename: 'Chat', id: chatId });
  if (!chatKey) return;
  const held = cache.resolve(chatKey, 'queuedMessages');
  if (!Array.isArray(held)) return cache.invalidate(chatKey, 'queuedMessages');
  const keyOf = (id: string) => cache.keyOfEntity({ __typename: 'ChatQueuedMessage', id });
  const removed = new Set(change.removedIds.map(keyOf));
  const queue = (held as Array<string | null>).filter((key): key is string => key !== null && !removed.has(key));
  for (const message of change.added) {
    const key = keyOf(message.id);
    if (key && !queue.includes(key)) queue.push(key);
  }
  if (queue.length !== change.length) return cache.invalidate(chatKey, 'queuedMessages');
  cache.link(chatKey, 'queuedMessages', queue);
}

type FamilyResult = { __typename: string; chat?: ChatPlacement; changedChats?: ChatPlacement[] };
type MessageResult = { __typename: string; chat?: { id: string }; message?: { id: string } | null };

/** graphcache `updates`: rule 4 for the live streams and for the mutations that move chats. */
export const liveUpdates: UpdatesConfig = {
  Subscription: {
    chatWatch(result, _args, cache) {
      const event = result.chatWatch as WatchEvent;
      if (event.kind === 'CREATED' || event.kind === 'DELETED') placeChat(cache, event.chat);
    },
    chatEvents(result, _args, cache) {
      const event = result.chatEvents as StreamEvent;
      if (event.kind === 'MESSAGE' && event.message) appendMessage(cache, event.chat.id, event.message);
      if (event.kind === 'MESSAGE_DELETED' && event.message) removeMessage(cache, event.chat.id, event.message);
      if (event.kind === 'ARCHIVED') placeChat(cache, event.chat);
      if (event.kind === 'QUEUE_UPDATE' && event.queueChange) applyQueueChange(cache, event.chat.id, event.queueChange);
      if (event.kind === 'CHILD_UPDATE' && event.child) placeChat(cache, event.child);
    },
  },
  Mutation: {
    archiveChat: (result, _args, cache) => placeFamily(cache, result.archiveChat as FamilyResult),
    unarchiveChat: (result, _args, cache) => placeFamily(cache, result.unarchiveChat as FamilyResult),
    sendChatMessage: (result, _args, cache) => appendResultMessage(cache, result.sendChatMessage as MessageResult),
    promoteQueuedMessage: (result, _args, cache) => appendResultMessage(cache, result.promoteQueuedMessage as MessageResult),
  },
};

function placeFamily(cache: Cache, payload: FamilyResult): void {
  if (payload.__typename !== 'ChatFamilyPayload') return;
  for (const chat of payload.changedChats ?? []) placeChat(cache, chat);
  if (payload.chat) placeChat(cache, payload.chat);
}

function appendResultMessage(cache: Cache, payload: MessageResult): void {
  if (payload.chat && payload.message) appendMessage(cache, payload.chat.id, payload.message);
}

/** graphcache `keys`: types without an id are embedded in their parent. */
export const embeddedTypes: KeyingConfig = Object.fromEntries(
  [
    'ChatConnection', 'ChatEdge', 'ChatMessageConnection', 'ChatMessageEdge', 'PageInfo', 'ChatDiffStatus', 'ChatMessageUsage',
    'ModelPricing', 'ChatCostSummary', 'ChatCostTotals', 'ChatCostModelBreakdown', 'ChatCostChatBreakdown', 'ChatWatchEvent',
    'ChatStreamEvent', 'ChatQueueChange', 'ChatTextPart', 'ChatReasoningPart', 'ChatToolCallPart', 'ChatToolResultPart', 'ChatSourcePart',
    'ChatFilePart', 'ChatFileReferencePart', 'ChatContextFilePart', 'SendChatMessagePayload', 'ChatMessagePayload',
    'ChatPayload', 'ChatFamilyPayload', 'ChatArchivedError', 'ForbiddenError', 'InvalidModelConfigError', 'NotFoundError',
    'QueueFullError', 'ValidationError',
  ].map((type) => [type, () => null]),
);
