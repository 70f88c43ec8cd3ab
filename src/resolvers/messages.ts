import type { Context } from '../context.js';
import type { ChatRow, MessageRow } from '../db/models.js';
import { parseContent, type MessagePart } from './content.js';
import { ValidationError } from './errors.js';
import { isRowId } from './ids.js';
import { seesModelOnly } from '../auth/policy.js';
import { decodeCursor, encodeCursor, pageRequest, toConnection, type PageArgs, type PageResult } from './pagination.js';

const CURSOR_KIND = 'msg';

export function messageCursor(message: MessageRow): string {
  return encodeCursor(CURSOR_KIND, message.id);
}

function parseMessageCursor(cursor: string, arg: string): string {
  const id = decodeCursor(CURSOR_KIND, cursor, arg);
  if (!isRowId(id)) throw new ValidationError(`Invalid cursor in "${arg}": not a cursor of this list`, arg);
  return id;
}

/** The chat's user-visible transcript, by id, keyset-paginated in both directions; batched across a page of chats. */
export async function chatMessages(chat: ChatRow, args: PageArgs, ctx: Context): Promise<PageResult<MessageRow>> {
  const request = pageRequest(args, parseMessageCursor);
  const rows = await ctx.loaders.messagePage(request.direction, request.cursor, request.limit + 1).load(chat.id);
  return toConnection(request, rows, messageCursor);
}

/** A message by database id, if its chat is visible to the viewer (model-only ones: workers and admins only). */
export async function message(args: { id: string }, ctx: Context): Promise<MessageRow | null> {
  if (!isRowId(args.id)) return null;
  const row = await ctx.loaders.message.load(args.id);
  if (!row || row.deleted) return null;
  if (row.visibility === 'model' && !seesModelOnly(ctx.viewer)) return null;
  return (await ctx.loaders.chat.load(row.chat_id)) ? row : null;
}

export function parts(message: Pick<MessageRow, 'content' | 'content_version' | 'role'>): MessagePart[] {
  return parseContent(message.content, message.content_version, message.role);
}

export interface Usage {
  inputTokens: string | null;
  outputTokens: string | null;
  totalTokens: string | null;
  reasoningTokens: string | null;
  cacheCreationTokens: string | null;
  cacheReadTokens: string | null;
  contextLimit: string | null;
}

/** Token usage, or null when the message carries none (user messages). */
export function usage(m: MessageRow): Usage | null {
  const u: Usage = {
    inputTokens: m.input_tokens,
    outputTokens: m.output_tokens,
    totalTokens: m.total_tokens,
    reasoningTokens: m.reasoning_tokens,
    cacheCreationTokens: m.cache_creation_tokens,
    cacheReadTokens: m.cache_read_tokens,
    contextLimit: m.context_limit,
  };
  return Object.values(u).every((v) => v === null) ? null : u;
}

/** Prompt view rule: what the worker sends to the model (worker/admin scope is enforced on the field); batched across a page of chats. */
export function promptMessages(chat: ChatRow, ctx: Context): Promise<MessageRow[]> {
  return ctx.loaders.promptMessages.load(chat.id);
}
