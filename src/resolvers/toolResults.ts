import type { Viewer } from '../auth/viewer.js';
import type { Context } from '../context.js';
import type { Queryable } from '../db/index.js';
import type { ChatRow, MessageRow } from '../db/models.js';
import type { NewMessage, ToolCallStateRow } from '../db/repos/messages.js';
import { ContentError, parseContent, type MessagePart } from './content.js';
import { ValidationError } from './errors.js';
import { assertLive, lockOwnChat, remember } from './userMutations.js';

/**
 * Tool calls the client must answer. A run that finishes as REQUIRES_ACTION leaves tool calls in
 * its last assistant message that no tool message answers yet; the user answers them with
 * submitToolResults, and when none is left the chat is PENDING again for the worker.
 */

export type ToolCallPart = Extract<MessagePart, { type: 'tool-call' }>;

/** submitToolResults takes at most this many results per call. */
export const MAX_TOOL_RESULTS = 50;
/** One tool result's output may take at most this many bytes as JSON. */
export const MAX_TOOL_OUTPUT_BYTES = 512 * 1024;

function parts(content: unknown, version: number, role: 'assistant' | 'tool'): MessagePart[] {
  try {
    return parseContent(content, version, role);
  } catch (err) {
    if (err instanceof ContentError) return []; // unreadable content answers nothing and asks nothing
    throw err;
  }
}

/** The calls of the last assistant message, and the ids that later tool messages already answer. */
export function toolCallState(row: ToolCallStateRow): { calls: ToolCallPart[]; answered: Set<string> } {
  const calls = parts(row.content, row.content_version, 'assistant').filter((p): p is ToolCallPart => p.type === 'tool-call');
  const answered = new Set<string>();
  for (const answer of row.answers) {
    for (const p of parts(answer.content, answer.version, 'tool')) if (p.type === 'tool-result') answered.add(p.toolCallId);
  }
  return { calls, answered };
}

/** The unanswered calls of a state row (a user never sees those of a model-only message). */
export function pendingOf(row: ToolCallStateRow | undefined, viewer: Viewer | null): ToolCallPart[] {
  if (!row) return [];
  if (row.visibility === 'model' && !(viewer?.isAdmin || viewer?.isWorker)) return [];
  const { calls, answered } = toolCallState(row);
  return calls.filter((c) => !answered.has(c.toolCallId));
}

/** `Chat.pendingToolCalls`: empty unless the chat is REQUIRES_ACTION. */
export async function pendingToolCalls(chat: ChatRow, ctx: Context): Promise<ToolCallPart[]> {
  if (chat.status !== 'requires_action') return [];
  return pendingOf(await ctx.loaders.toolCallState.load(chat.id), ctx.viewer);
}

async function stateOf(t: Queryable, chatId: string): Promise<ToolCallStateRow | undefined> {
  return (await t.messages.toolCallState([chatId]))[0];
}

/** One answer as the client sends it. */
export interface ToolResultInput {
  toolCallId: string;
  output?: unknown;
  isError?: boolean | null;
}

export interface SubmitToolResultsResult {
  chat: ChatRow;
  messages: MessageRow[];
  /** Calls still unanswered (the chat stays REQUIRES_ACTION until this is empty). */
  pendingToolCalls: ToolCallPart[];
}

/** Shape checks that need no database: sizes, ids, duplicates. */
function checkResults(results: readonly ToolResultInput[]): void {
  if (results.length === 0 || results.length > MAX_TOOL_RESULTS) {
    throw new ValidationError(`results must hold 1-${MAX_TOOL_RESULTS} tool results`, 'results');
  }
  const seen = new Set<string>();
  results.forEach((r, i) => {
    const field = `results[${i}]`;
    if (r.toolCallId.trim() === '') throw new ValidationError(`${field}.toolCallId must not be empty`, `${field}.toolCallId`);
    if (seen.has(r.toolCallId)) throw new ValidationError(`${field}.toolCallId: tool call ${r.toolCallId} is answered twice in this call`, `${field}.toolCallId`);
    seen.add(r.toolCallId);
    const bytes = Buffer.byteLength(JSON.stringify(r.output ?? null));
    if (bytes > MAX_TOOL_OUTPUT_BYTES) throw new ValidationError(`${field}.output: ${bytes} bytes; the limit is ${MAX_TOOL_OUTPUT_BYTES}`, `${field}.output`);
  });
}

/**
 * Answers tool calls of a chat in REQUIRES_ACTION: one tool message per result (visible to
 * both user and model), in the given order. When every pending call is answered the chat goes
 * PENDING so a worker resumes the run; otherwise it stays REQUIRES_ACTION. A chat in another
 * status, an unknown or already-answered tool call id, or an archived chat is a typed error and
 * nothing is written.
 */
export async function submitToolResults(
  input: { chatId: string; results: readonly ToolResultInput[] },
  ctx: Context,
): Promise<SubmitToolResultsResult> {
  checkResults(input.results);
  const userId = ctx.viewer!.user.id;
  await ctx.limits?.take('toolResults', userId, input.results.length);
  const result = await ctx.db.tx('submitToolResults', async (t): Promise<SubmitToolResultsResult> => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    assertLive(chat);
    if (chat.status !== 'requires_action') {
      throw new ValidationError(`The chat is ${chat.status.toUpperCase()}, not REQUIRES_ACTION: it awaits no tool results`, 'chatId');
    }
    const row = await stateOf(t, chat.id);
    const state = row ? toolCallState(row) : { calls: [], answered: new Set<string>() };
    const pending = new Map(pendingOf(row, ctx.viewer).map((c) => [c.toolCallId, c]));
    const rows: NewMessage[] = input.results.map((r, i) => {
      const call = pending.get(r.toolCallId);
      if (!call) {
        const why = state.answered.has(r.toolCallId) ? 'is already answered' : 'is not a pending tool call of this chat';
        throw new ValidationError(`results[${i}].toolCallId: tool call ${r.toolCallId} ${why}`, `results[${i}].toolCallId`);
      }
      const part = { type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, result: r.output ?? null, isError: r.isError === true };
      return { role: 'tool', visibility: 'both', content: [part], model_config_id: null, created_by: userId };
    });
    const messages = await t.messages.insert(chat.id, rows, null);
    for (const r of input.results) pending.delete(r.toolCallId);
    const remaining = [...pending.values()];
    const after = remaining.length === 0 ? await t.chats.update(chat.id, { status: 'pending' }) : chat;
    return { chat: after, messages, pendingToolCalls: remaining };
  });
  remember(ctx, result.chat);
  return result;
}
