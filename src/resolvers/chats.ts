import type { Context } from '../context.js';
import type { ChatKey, ChatListFilter } from '../db/repos/chats.js';
import type { ChatRow, CostTotalsRow, DiffStatusRow, QueuedMessageRow } from '../db/models.js';
import { parseContent, summarize, summarizeText } from './content.js';
import { ForbiddenError, ValidationError } from './errors.js';
import { isUuid } from './ids.js';
import { decodeCursor, encodeCursor, pageRequest, toConnection, type PageArgs, type PageResult } from './pagination.js';

export interface ChatListArgs extends PageArgs {
  archived?: boolean | null;
  labels?: unknown;
  includeChildren?: boolean | null;
  allUsers?: boolean | null;
}

const CURSOR_KIND = 'chat';

/** The opaque cursor of a chat: its sort key (updated_at in microseconds, id). */
export function chatCursor(chat: ChatRow): string {
  return encodeCursor(CURSOR_KIND, `${chat.updated_us}:${chat.id}`);
}

function parseChatCursor(cursor: string, arg: string): ChatKey {
  const [updatedUs, id] = decodeCursor(CURSOR_KIND, cursor, arg).split(':');
  if (!updatedUs || !/^\d{1,19}$/.test(updatedUs) || !id || !isUuid(id)) {
    throw new ValidationError(`Invalid cursor in "${arg}": not a cursor of this list`, arg);
  }
  return { updatedUs, id };
}

/** A visible chat by id, or null (absent and not-yours look the same). */
export function chat(args: { id: string }, ctx: Context): Promise<ChatRow | null> {
  return ctx.loaders.chat.load(args.id);
}

function listFilter(args: ChatListArgs, ctx: Context): ChatListFilter {
  if (args.allUsers && !ctx.viewer?.isAdmin) throw new ForbiddenError('allUsers needs an admin token');
  const labels = args.labels ?? null;
  if (labels !== null && (typeof labels !== 'object' || Array.isArray(labels))) {
    throw new ValidationError('"labels" must be a JSON object; chats whose labels contain it are returned', 'labels');
  }
  return {
    ownerId: args.allUsers ? null : ctx.viewer!.user.id,
    archived: args.archived ?? null,
    labels: labels as Record<string, unknown> | null,
    includeChildren: args.includeChildren ?? false,
  };
}

/**
 * The viewer's chats, newest activity first, keyset-paginated. One statement returns the page,
 * each chat's model config (primed into the loader) and, when the client selected totalCount
 * (`withCount`), the filter's total.
 */
export async function chats(
  args: ChatListArgs & { withCount: boolean },
  ctx: Context,
): Promise<PageResult<ChatRow> & { totalCount: () => Promise<number> }> {
  const filter = listFilter(args, ctx);
  const request = pageRequest(args, parseChatCursor);
  const page = await ctx.db.chats.page(filter, request.direction, request.cursor, request.limit + 1, args.withCount);
  for (const row of page.rows) ctx.loaders.chat.prime(row.id, row);
  for (const config of page.modelConfigs) ctx.loaders.modelConfig.prime(config.id, config);
  const total = page.totalCount;
  return {
    ...toConnection(request, page.rows, chatCursor),
    totalCount: () => (total !== null ? Promise.resolve(total) : ctx.db.chats.count(filter)),
  };
}

export async function parent(chat: ChatRow, ctx: Context): Promise<ChatRow | null> {
  return chat.parent_chat_id ? ctx.loaders.chat.load(chat.parent_chat_id) : null;
}

export async function root(chat: ChatRow, ctx: Context): Promise<ChatRow | null> {
  return chat.root_chat_id ? ctx.loaders.chat.load(chat.root_chat_id) : null;
}

export async function children(chat: ChatRow, ctx: Context): Promise<ChatRow[]> {
  return (await ctx.loaders.chatExtras.load({ chatId: chat.id, part: 'children' })).children;
}

export async function diffStatus(chat: ChatRow, ctx: Context): Promise<DiffStatusRow | null> {
  return (await ctx.loaders.chatExtras.load({ chatId: chat.id, part: 'diffStatus' })).diff_status;
}

export async function queuedMessages(chat: ChatRow, ctx: Context): Promise<QueuedMessageRow[]> {
  return (await ctx.loaders.chatExtras.load({ chatId: chat.id, part: 'queued' })).queued;
}

/** Turn summary rule: the last assistant message's text, trimmed and truncated; null without one. */
export async function lastTurnSummary(chat: ChatRow, ctx: Context): Promise<string | null> {
  const extras = await ctx.loaders.chatExtras.load({ chatId: chat.id, part: 'lastTurn' });
  if (extras.last_assistant_version === null) return null;
  if (extras.last_assistant_content === null) return summarizeText(extras.last_assistant_text ?? '');
  return summarize(parseContent(extras.last_assistant_content, extras.last_assistant_version, 'assistant'));
}

/** An assistant message newer than the chat's read marker. */
export async function hasUnread(chat: ChatRow, ctx: Context): Promise<boolean> {
  return (await ctx.loaders.chatExtras.load({ chatId: chat.id, part: 'unread' })).has_unread;
}

export function cost(chat: ChatRow, ctx: Context): Promise<CostTotalsRow> {
  return ctx.loaders.chatCost.load(chat.id);
}
