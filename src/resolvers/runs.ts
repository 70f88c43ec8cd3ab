import type { Context } from '../context.js';
import type { DbTask } from '../db/index.js';
import type { ChatRow, ChatStatus, MessageRole, MessageRow, MessageVisibility, ModelConfigRow } from '../db/models.js';
import type { NewMessage } from '../db/repos/messages.js';
import { encodeEnd, PARTS_CHANNEL } from '../events/messageParts.js';
import { ContentError, parseContent } from './content.js';
import { ForbiddenError, InvalidModelConfigError, NotFoundError, ValidationError } from './errors.js';
import { CostOutOfRangeError, messageCostMicros } from './pricing.js';
import { promoteOldest, remember } from './userMutations.js';

/** acquireChats takes at most this many chats per call. */
export const MAX_ACQUIRE = 10;
/** heartbeatChats refreshes at most this many chats per call. */
export const MAX_HEARTBEAT_CHATS = 100;
/** appendChatMessages writes at most this many messages per call. */
export const MAX_APPEND_MESSAGES = 50;
/** A worker message may have at most this many parts. */
export const MAX_MESSAGE_PARTS = 500;
/** A worker message's parts may take at most this many bytes as JSON (tool output included). */
export const MAX_MESSAGE_BYTES = 512 * 1024;
/** A longer lastError is rejected rather than cut, so the worker learns of it. */
export const MAX_LAST_ERROR_LENGTH = 10_000;
const MAX_WORKER_ID_LENGTH = 200;
/**
 * Every usage count (and runtimeMs) is at most 10^12: far above any real turn, and small enough
 * that sums over millions of messages and costs at any accepted price stay exact.
 */
export const MAX_USAGE_COUNT = 1_000_000_000_000n;

/** A trimmed workerId, or ValidationError. */
export function workerIdFromInput(workerId: string): string {
  const id = workerId.trim();
  if (id === '' || id.length > MAX_WORKER_ID_LENGTH) throw new ValidationError(`workerId must be 1-${MAX_WORKER_ID_LENGTH} characters`, 'workerId');
  return id;
}

/**
 * Locks a chat and checks that `workerId` runs it. A chat that is gone is NotFoundError; one
 * that is not running, or is running for another worker (reclaimed after a stale heartbeat,
 * interrupted, archived), is ForbiddenError: the worker has lost the run and must stop.
 */
export async function lockOwnedRun(t: DbTask, chatId: string, workerId: string): Promise<ChatRow> {
  const chat = await t.chats.lock(chatId);
  if (!chat) throw new NotFoundError('Chat not found', chatId);
  if (!ownsRun(chat, workerId)) throw new ForbiddenError(notOwnerMessage(chat, workerId));
  return chat;
}

function ownsRun(chat: ChatRow, workerId: string): boolean {
  return chat.status === 'running' && chat.worker_id === workerId;
}

/** Why a worker may not act on a chat it no longer runs. */
export function notOwnerMessage(chat: ChatRow, workerId: string): string {
  return chat.status === 'running'
    ? `Worker "${workerId}" no longer owns chat ${chat.id}: another worker runs it`
    : `Worker "${workerId}" no longer owns chat ${chat.id}: it is ${chat.status}, not running`;
}

/** Claims up to `limit` (1..10, default 1) pending chats for the worker; they are RUNNING when returned. */
export async function acquireChats(input: { workerId: string; limit?: number | null }, ctx: Context): Promise<{ chats: ChatRow[] }> {
  const workerId = workerIdFromInput(input.workerId);
  const limit = input.limit ?? 1;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_ACQUIRE) throw new ValidationError(`limit must be 1..${MAX_ACQUIRE}`, 'limit');
  // One statement, so no explicit transaction: FOR UPDATE SKIP LOCKED locks the rows it claims (lock the chat row first).
  const chats = await ctx.db.chats.acquire(workerId, limit);
  remember(ctx, ...chats);
  return { chats };
}

/** Refreshes the heartbeat of the worker's running chats; the rest are reported lost (stop working on them). */
export async function heartbeatChats(
  input: { workerId: string; chatIds: readonly string[] },
  ctx: Context,
): Promise<{ refreshedChatIds: string[]; lostChatIds: string[] }> {
  const workerId = workerIdFromInput(input.workerId);
  if (input.chatIds.length > MAX_HEARTBEAT_CHATS) throw new ValidationError(`At most ${MAX_HEARTBEAT_CHATS} chatIds per call`, 'chatIds');
  const ids = [...new Set(input.chatIds)];
  const refreshed = new Set(ids.length > 0 ? await ctx.db.chats.heartbeat(workerId, ids) : []);
  return { refreshedChatIds: ids.filter((id) => refreshed.has(id)), lostChatIds: ids.filter((id) => !refreshed.has(id)) };
}

/** Token usage as a worker reports it (BigInt scalars arrive as bigint). */
export interface UsageInput {
  inputTokens?: bigint | null;
  outputTokens?: bigint | null;
  totalTokens?: bigint | null;
  reasoningTokens?: bigint | null;
  cacheCreationTokens?: bigint | null;
  cacheReadTokens?: bigint | null;
  contextLimit?: bigint | null;
}

/** One message of appendChatMessages. */
export interface AppendMessageInput {
  role: MessageRole;
  visibility?: MessageVisibility | null;
  parts?: unknown;
  modelConfigId?: string | null;
  usage?: UsageInput | null;
  runtimeMs?: bigint | null;
  compressed?: boolean | null;
}

const str = (v: bigint | null | undefined): string | null => (v == null ? null : v.toString());

/** Validates one message (parts through the version-1 parser, sizes, non-negative counts). */
function checkMessage(m: AppendMessageInput, i: number): NewMessage {
  const where = `messages[${i}]`;
  let content;
  try {
    content = parseContent(m.parts, 1, m.role);
  } catch (err) {
    if (err instanceof ContentError) throw new ValidationError(`${where}.parts: ${err.message}`, `${where}.parts`);
    throw err;
  }
  if (content.length === 0) throw new ValidationError(`${where}.parts: a message needs at least one part`, `${where}.parts`);
  if (content.length > MAX_MESSAGE_PARTS) throw new ValidationError(`${where}.parts: ${content.length} parts; the limit is ${MAX_MESSAGE_PARTS}`, `${where}.parts`);
  const bytes = Buffer.byteLength(JSON.stringify(content));
  if (bytes > MAX_MESSAGE_BYTES) throw new ValidationError(`${where}.parts: ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}`, `${where}.parts`);
  const u = m.usage ?? {};
  for (const [key, value] of Object.entries(u)) {
    if (typeof value !== 'bigint') continue;
    if (value < 0n) throw new ValidationError(`${where}.usage.${key} must not be negative`, `${where}.usage.${key}`);
    if (value > MAX_USAGE_COUNT) throw new ValidationError(`${where}.usage.${key} must be at most 10^12`, `${where}.usage.${key}`);
  }
  // Reasoning is part of output (never billed twice, docs/costs.md): a larger count means the worker reported them apart.
  if (u.reasoningTokens != null && u.outputTokens != null && u.reasoningTokens > u.outputTokens) {
    throw new ValidationError(`${where}.usage.reasoningTokens must be included in outputTokens`, `${where}.usage.reasoningTokens`);
  }
  if (m.runtimeMs != null && m.runtimeMs < 0n) throw new ValidationError(`${where}.runtimeMs must not be negative`, `${where}.runtimeMs`);
  if (m.runtimeMs != null && m.runtimeMs > MAX_USAGE_COUNT) throw new ValidationError(`${where}.runtimeMs must be at most 10^12`, `${where}.runtimeMs`);
  return {
    role: m.role,
    visibility: m.visibility ?? 'both',
    content,
    model_config_id: m.modelConfigId ?? null,
    created_by: null,
    input_tokens: str(u.inputTokens),
    output_tokens: str(u.outputTokens),
    total_tokens: str(u.totalTokens),
    reasoning_tokens: str(u.reasoningTokens),
    cache_creation_tokens: str(u.cacheCreationTokens),
    cache_read_tokens: str(u.cacheReadTokens),
    context_limit: str(u.contextLimit),
    runtime_ms: str(m.runtimeMs),
    compressed: m.compressed ?? false,
  };
}

/**
 * Appends the worker's messages to the run it owns, in order, in one statement (the message-insert hot
 * path). Assistant messages without a model are the turn's model (the chat's last) and carry
 * their cost (docs/costs.md); the chat's last model follows the last message that names one, and
 * the chats row is rewritten only when that model actually changes.
 */
export async function appendChatMessages(
  input: { chatId: string; workerId: string; messages: readonly AppendMessageInput[] },
  ctx: Context,
): Promise<{ chat: ChatRow; messages: MessageRow[] }> {
  const workerId = workerIdFromInput(input.workerId);
  if (input.messages.length === 0 || input.messages.length > MAX_APPEND_MESSAGES) {
    throw new ValidationError(`messages must hold 1-${MAX_APPEND_MESSAGES} messages`, 'messages');
  }
  const rows = input.messages.map(checkMessage);
  // One point per message (tool results included), taken before any statement runs.
  await ctx.limits?.take('appends', ctx.viewer!.user.id, rows.length);
  const result = await ctx.db.tx('appendChatMessages', async (t) => {
    const chat = await lockOwnedRun(t, input.chatId, workerId);
    for (const row of rows) if (row.role === 'assistant') row.model_config_id ??= chat.last_model_config_id;
    const configs = await modelsOf(t, rows);
    rows.forEach((row, i) => {
      if (row.role !== 'assistant') return;
      const usage = { inputTokens: row.input_tokens, outputTokens: row.output_tokens, cacheReadTokens: row.cache_read_tokens, cacheCreationTokens: row.cache_creation_tokens };
      try {
        row.total_cost_micros = messageCostMicros(usage, configs.get(row.model_config_id!) ?? null);
      } catch (err) {
        if (err instanceof CostOutOfRangeError) throw new ValidationError(`messages[${i}].usage: ${err.message}`, `messages[${i}].usage`);
        throw err;
      }
    });
    const turnModel = rows.findLast((r) => r.model_config_id !== null)?.model_config_id ?? null;
    const messages = await t.messages.insert(chat.id, rows, turnModel);
    // Ends the chat's streamed preview in this transaction, so the marker reaches every process
    // after the preview's parts and before the next attempt's (see events/messageParts.ts). Only
    // when a preview is open here: appends without streaming cost no extra statement.
    const assistant = messages.filter((m) => m.role === 'assistant').map((m) => m.id);
    if (assistant.length > 0 && ctx.parts?.hasPreview(chat.id)) await t.chats.notify(PARTS_CHANNEL, encodeEnd(chat.id, assistant));
    // The insert statement moved the chat's model only if it differed; only then is the locked row stale.
    const moved = turnModel !== null && turnModel !== chat.last_model_config_id;
    const [current] = moved ? await t.chats.byIds([chat.id]) : [chat];
    return { chat: current!, messages };
  });
  remember(ctx, result.chat);
  return result;
}

/**
 * The configs the messages name, by id. An unknown id is InvalidModelConfigError; a deleted or
 * disabled one is accepted, since the run already used it and its price still applies.
 */
async function modelsOf(t: DbTask, rows: NewMessage[]): Promise<Map<string, ModelConfigRow>> {
  const ids = [...new Set(rows.map((r) => r.model_config_id).filter((id): id is string => id !== null))];
  const configs = new Map((await t.modelConfigs.byIds(ids)).map((c) => [c.id, c]));
  const missing = ids.find((id) => !configs.has(id));
  if (missing) throw new InvalidModelConfigError('Model config does not exist', missing);
  return configs;
}

/** The statuses a run may finish with. */
const FINISH_STATUSES: ReadonlySet<ChatStatus> = new Set(['waiting', 'error', 'requires_action']);

export interface FinishResult {
  chat: ChatRow;
  finished: boolean;
  promotedMessage: MessageRow | null;
  /** Why the oldest queued message could not be promoted (it stays queued, the chat is ERROR). */
  promotionError: string | null;
}

/**
 * Ends the worker's run. A finish from a worker that no longer owns the chat (another
 * worker_id, or the chat is not running) changes nothing and answers `finished: false` with
 * the chat as it is, so a retried or late finish is harmless. ERROR stores lastError (a later non-error status clears it)
 * and holds the queue until the user acts. WAITING on a live chat promotes the oldest queued
 * message in the same transaction (auto-promotion): the chat then goes straight to PENDING, without
 * passing through WAITING. A finish never wedges: when no model config is usable for that
 * message it stays queued, the chat goes ERROR saying why, and the finish still commits.
 */
export async function finishChatRun(
  input: { chatId: string; workerId: string; status: ChatStatus; lastError?: string | null },
  ctx: Context,
): Promise<FinishResult> {
  const workerId = workerIdFromInput(input.workerId);
  if (!FINISH_STATUSES.has(input.status)) throw new ValidationError(`A run finishes as WAITING, ERROR or REQUIRES_ACTION, not ${input.status.toUpperCase()}`, 'status');
  const lastError = input.lastError?.trim() ?? null;
  if (input.status === 'error') {
    if (!lastError) throw new ValidationError('lastError is required when status is ERROR', 'lastError');
    if (lastError.length > MAX_LAST_ERROR_LENGTH) throw new ValidationError(`lastError is limited to ${MAX_LAST_ERROR_LENGTH} characters`, 'lastError');
  } else if (input.lastError != null) {
    throw new ValidationError('lastError is only allowed when status is ERROR', 'lastError');
  }
  const result = await ctx.db.tx('finishChatRun', async (t): Promise<FinishResult> => {
    const chat = await t.chats.lock(input.chatId);
    if (!chat) throw new NotFoundError('Chat not found', input.chatId);
    if (!ownsRun(chat, workerId)) return { chat, finished: false, promotedMessage: null, promotionError: null };
    if (input.status === 'waiting' && !chat.archived) {
      const promotion = await promoteOldest(t, chat);
      if (promotion) return { chat: promotion.chat, finished: true, promotedMessage: promotion.message, promotionError: promotion.error };
    }
    return { chat: await t.chats.update(chat.id, { status: input.status, lastError }), finished: true, promotedMessage: null, promotionError: null };
  });
  remember(ctx, result.chat);
  return result;
}
