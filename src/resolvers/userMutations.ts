/*
 * The user mutations: what a chat's owner does to their own chats (create, send, queue, edit,
 * interrupt, retry, update, archive, mark read), plus the chat-locking helpers the other
 * mutation files share. The worker's mutations are in runs.ts, sub-agents in subAgents.ts.
 */
import type { Context } from '../context.js';
import type { DbTask } from '../db/index.js';
import type { ChatRow, MessageRow, ModelConfigRow, QueuedMessageRow } from '../db/models.js';
import { ChatArchivedError, ForbiddenError, InvalidModelConfigError, NotFoundError, QueueFullError, ValidationError } from './errors.js';
import { contentFromInput, labelsFromInput, titleFromInput, type ChatInputPart } from './inputs.js';
import { isUuid } from './ids.js';
import { canRead } from '../auth/policy.js';
import { fallbackModelConfig, resolveModelConfig } from './models.js';

/** Busy → queue rule: at most this many queued messages per chat. */
export const MAX_QUEUED = 20;

/**
 * Locks a chat the viewer owns (lock the chat row first: the first statement of every chat mutation). Absent or
 * invisible → NotFoundError (existence is not revealed); visible but someone else's (admin,
 * worker) → ForbiddenError.
 */
export async function lockOwnChat(t: DbTask, ctx: Context, chatId: string): Promise<ChatRow> {
  const chat = await t.chats.lock(chatId);
  if (!chat || !canRead(ctx.viewer, chat)) throw new NotFoundError('Chat not found', chatId);
  if (chat.owner_id !== ctx.viewer!.user.id) throw new ForbiddenError('Only the owner may change a chat');
  return chat;
}

/** Archived chats reject user actions (ChatArchivedError). */
export function assertLive(chat: ChatRow): void {
  if (chat.archived) throw new ChatArchivedError(chat.id);
}

/** Makes rows written by a mutation visible to the rest of the response. */
export function remember(ctx: Context, ...chats: ChatRow[]): void {
  for (const chat of chats) ctx.loaders.chat.clear(chat.id).prime(chat.id, chat);
}

export interface CreateChatInput {
  content: readonly ChatInputPart[];
  modelConfigId?: string | null;
  workspaceId?: string | null;
  labels?: unknown;
  title?: string | null;
}

/** Create chat rule: the chat (pending) and its first user message in one transaction. */
export async function createChat(input: CreateChatInput, ctx: Context): Promise<{ chat: ChatRow; message: MessageRow }> {
  const content = contentFromInput(input.content);
  const title = input.title != null ? titleFromInput(input.title) : 'New Chat';
  await ctx.limits?.take('sends', ctx.viewer!.user.id);
  const labels = input.labels != null ? labelsFromInput(input.labels) : {};
  // Workspaces live outside chatgraph (agents are looked up, never stored): only the shape is checked.
  if (input.workspaceId != null && !isUuid(input.workspaceId)) throw new ValidationError('"workspaceId" must be a UUID', 'workspaceId');
  const userId = ctx.viewer!.user.id;
  const result = await ctx.db.tx('createChat', async (t) => {
    const model = await resolveModelConfig(t, input.modelConfigId ?? null, null);
    const created = await t.chats.create({ ownerId: userId, title, workspaceId: input.workspaceId ?? null, labels, modelConfigId: model.id, status: 'pending' });
    const [message] = await t.messages.insert(created.id, [{ role: 'user', visibility: 'both', content, model_config_id: model.id, created_by: userId }], model.id);
    return { chat: created, message: message! };
  });
  remember(ctx, result.chat);
  return result;
}

export interface SendResult {
  chat: ChatRow;
  message: MessageRow | null;
  queuedMessage: QueuedMessageRow | null;
  queued: boolean;
}

/** Statuses in which a chat has work in flight; every other status is at rest. */
export function isBusy(chat: Pick<ChatRow, 'status'>): boolean {
  return chat.status === 'pending' || chat.status === 'running';
}

/**
 * Rules 3-5: resolve the model; a busy chat (pending, running, or a non-empty queue, which
 * keeps FIFO) queues the message with that model; an idle chat gets the message and turns
 * pending. No stranded queue: a chat at rest with queued messages (an ERROR or REQUIRES_ACTION
 * chat holds its queue) first promotes the oldest of them, then queues the new message behind.
 */
export async function sendChatMessage(
  input: { chatId: string; content: readonly ChatInputPart[]; modelConfigId?: string | null },
  ctx: Context,
): Promise<SendResult> {
  const content = contentFromInput(input.content);
  const userId = ctx.viewer!.user.id;
  await ctx.limits?.take('sends', userId);
  const result = await ctx.db.tx('sendChatMessage', async (t): Promise<SendResult> => {
    let chat = await lockOwnChat(t, ctx, input.chatId);
    assertLive(chat);
    const model = await resolveModelConfig(t, input.modelConfigId ?? null, chat.last_model_config_id);
    if (!isBusy(chat)) chat = (await promoteOldest(t, chat))?.chat ?? chat;
    const waiting = await t.queue.count(chat.id);
    if (isBusy(chat) || waiting > 0) {
      if (waiting >= MAX_QUEUED) throw new QueueFullError(MAX_QUEUED);
      const queuedMessage = await t.queue.enqueue({ chatId: chat.id, content, modelConfigId: model.id, createdBy: userId });
      return { chat, message: null, queuedMessage, queued: true };
    }
    const [message] = await t.messages.insert(chat.id, [{ role: 'user', visibility: 'both', content, model_config_id: model.id, created_by: userId }], model.id);
    const updated = await t.chats.update(chat.id, { status: 'pending' });
    return { chat: updated, message: message!, queuedMessage: null, queued: false };
  });
  remember(ctx, result.chat);
  return result;
}

/**
 * Promotion (and auto-promotion when called by finishChatRun): turn a queued row into a user message with
 * its stored model, falling back to the chat's last model, then the default; the chat goes pending.
 * `model` skips the resolution when the caller already made it.
 */
export async function promoteQueued(t: DbTask, chat: ChatRow, queued: QueuedMessageRow, model?: ModelConfigRow): Promise<{ chat: ChatRow; message: MessageRow }> {
  const config = model ?? (await fallbackModelConfig(t, queued.model_config_id, chat.last_model_config_id));
  const [message] = await t.messages.insert(
    chat.id,
    [{ role: 'user', visibility: 'both', content: queued.content as unknown[], model_config_id: config.id, created_by: queued.created_by }],
    config.id,
  );
  const updated = await t.chats.update(chat.id, { status: 'pending' });
  return { chat: updated, message: message! };
}

/** What promoting the oldest queued message did: promoted it, or held it and put the chat in error. */
export interface Promotion {
  chat: ChatRow;
  /** The new user message; null when the queued message had to stay queued. */
  message: MessageRow | null;
  /** Why the queued message could not start (the chat's lastError); null when it was promoted. */
  error: string | null;
}

/**
 * No stranded queue, and a promotion never wedges its caller: moves the oldest queued message
 * into the transcript (the chat goes pending). When no model config is usable for it (its own,
 * the chat's last, the default), it stays queued and the chat goes to error with a lastError
 * that says why, so the caller's transaction still commits. Null when the queue is empty.
 * The caller holds the chat row lock.
 */
export async function promoteOldest(t: DbTask, chat: ChatRow): Promise<Promotion | null> {
  const queued = await t.queue.oldest(chat.id);
  if (!queued) return null;
  let model: ModelConfigRow;
  try {
    model = await fallbackModelConfig(t, queued.model_config_id, chat.last_model_config_id);
  } catch (err) {
    if (!(err instanceof InvalidModelConfigError)) throw err;
    const error = `The oldest queued message (${queued.id}) cannot start: no usable model config (its own, the chat's and the default are deleted, disabled or unset)`;
    return { chat: await t.chats.update(chat.id, { status: 'error', lastError: error }), message: null, error };
  }
  await t.queue.take(chat.id, queued.id);
  const promoted = await promoteQueued(t, chat, queued, model);
  return { ...promoted, error: null };
}

/**
 * Promote rule, the user's explicit choice: the named queued message runs now. On a chat at rest
 * (error, requires_action…) FIFO still holds: the oldest queued message is promoted first, then
 * the named one. On a busy chat the named message jumps the queue (and ends the current run).
 */
export async function promoteQueuedMessage(input: { chatId: string; queuedMessageId: string }, ctx: Context): Promise<{ chat: ChatRow; message: MessageRow }> {
  const result = await ctx.db.tx('promoteQueuedMessage', async (t) => {
    let chat = await lockOwnChat(t, ctx, input.chatId);
    assertLive(chat);
    const oldest = await t.queue.oldest(chat.id);
    // An unknown id throws below and rolls this promotion back with it.
    if (!isBusy(chat) && oldest && oldest.id !== input.queuedMessageId) chat = (await promoteOldest(t, chat))!.chat;
    const queued = await t.queue.take(chat.id, input.queuedMessageId);
    if (!queued) throw new NotFoundError('Queued message not found', input.queuedMessageId);
    return promoteQueued(t, chat, queued);
  });
  remember(ctx, result.chat);
  return result;
}

export async function deleteQueuedMessage(input: { chatId: string; queuedMessageId: string }, ctx: Context): Promise<{ chat: ChatRow }> {
  return ctx.db.tx('deleteQueuedMessage', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    if (!(await t.queue.take(chat.id, input.queuedMessageId))) throw new NotFoundError('Queued message not found', input.queuedMessageId);
    return { chat };
  });
}

/**
 * Edit rule: soft-delete the user message and everything after it, insert the replacement (same
 * model as the original when it still exists), clear the queue, set pending.
 */
export async function editChatMessage(
  input: { chatId: string; messageId: string; content: readonly ChatInputPart[] },
  ctx: Context,
): Promise<{ chat: ChatRow; message: MessageRow }> {
  const content = contentFromInput(input.content);
  await ctx.limits?.take('sends', ctx.viewer!.user.id);
  const result = await ctx.db.tx('editChatMessage', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    assertLive(chat);
    const [original] = await t.messages.byIds([input.messageId]);
    if (!original || original.chat_id !== chat.id || original.deleted) throw new NotFoundError('Message not found', input.messageId);
    if (original.role !== 'user') throw new ValidationError('Only user messages can be edited', 'messageId');
    const model = await fallbackModelConfig(t, original.model_config_id, chat.last_model_config_id);
    await t.messages.softDeleteFrom(chat.id, original.id);
    const [message] = await t.messages.insert(chat.id, [{ role: 'user', visibility: 'both', content, model_config_id: model.id, created_by: ctx.viewer!.user.id }], model.id);
    await t.queue.clear(chat.id);
    const updated = await t.chats.update(chat.id, { status: 'pending' });
    return { chat: updated, message: message! };
  });
  remember(ctx, result.chat);
  return result;
}

/**
 * Stops a pending or running chat the way the reference backend does: the worker's claim is
 * dropped and the chat goes waiting, or, with messages queued, straight on to the oldest of
 * them in the same transaction (no stranded queue).
 */
export async function interruptChat(input: { chatId: string }, ctx: Context): Promise<{ chat: ChatRow; promotedMessage: MessageRow | null }> {
  const result = await ctx.db.tx('interruptChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    if (!isBusy(chat)) {
      throw new ValidationError(`Only a pending or running chat can be interrupted (it is ${chat.status})`, 'chatId');
    }
    const promotion = await promoteOldest(t, chat);
    if (promotion) return { chat: promotion.chat, promotedMessage: promotion.message };
    return { chat: await t.chats.update(chat.id, { status: 'waiting' }), promotedMessage: null };
  });
  remember(ctx, result.chat);
  return result;
}

/**
 * Runs a chat at rest again: with messages queued, the oldest of them is promoted (FIFO);
 * otherwise the last turn is re-run (the chat goes pending, no message is added). Pending or
 * running chats → ValidationError; archived → ChatArchivedError.
 */
export async function retryChat(input: { chatId: string }, ctx: Context): Promise<{ chat: ChatRow; promotedMessage: MessageRow | null; promotionError: string | null }> {
  const result = await ctx.db.tx('retryChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    assertLive(chat);
    if (isBusy(chat)) throw new ValidationError(`The chat is already ${chat.status}`, 'chatId');
    const promotion = await promoteOldest(t, chat);
    if (promotion) return { chat: promotion.chat, promotedMessage: promotion.message, promotionError: promotion.error };
    return { chat: await t.chats.update(chat.id, { status: 'pending' }), promotedMessage: null, promotionError: null };
  });
  remember(ctx, result.chat);
  return result;
}

export async function updateChat(
  input: { chatId: string; title?: string | null; labels?: unknown; pinOrder?: number | null },
  ctx: Context,
): Promise<{ chat: ChatRow }> {
  const set: Parameters<DbTask['chats']['update']>[1] = {};
  if (input.title != null) set.title = titleFromInput(input.title);
  if (input.labels != null) set.labels = labelsFromInput(input.labels);
  if (input.pinOrder != null) {
    if (!Number.isInteger(input.pinOrder) || input.pinOrder < 0 || input.pinOrder > 1_000_000) throw new ValidationError('pinOrder must be 0..1000000', 'pinOrder');
    set.pinOrder = input.pinOrder;
  }
  if (Object.keys(set).length === 0) throw new ValidationError('Nothing to update: pass title, labels or pinOrder', 'input');
  const result = await ctx.db.tx('updateChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    return { chat: await t.chats.update(chat.id, set) };
  });
  remember(ctx, result.chat);
  return result;
}

/** Archive rule: archive the chat and every sub-agent below it (for a root, its whole family) in one statement. Idempotent. */
export async function archiveChat(input: { chatId: string }, ctx: Context): Promise<{ chat: ChatRow; chats: ChatRow[] }> {
  const result = await ctx.db.tx('archiveChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    const changed = await t.chats.setFamilyArchived(chat.id, true);
    return { chat: changed.find((c) => c.id === chat.id) ?? chat, chats: changed };
  });
  remember(ctx, ...result.chats);
  return result;
}

/**
 * Archive rule: unarchive restores the chat and its sub-agents (a root: its family); a chat with an
 * archived ancestor at any depth cannot be unarchived. Members at rest with queued messages promote the oldest (no stranded queue).
 */
export async function unarchiveChat(input: { chatId: string }, ctx: Context): Promise<{ chat: ChatRow; chats: ChatRow[] }> {
  const result = await ctx.db.tx('unarchiveChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    if (chat.parent_chat_id) {
      const archivedAncestor = await t.chats.archivedAncestor(chat.id);
      if (archivedAncestor) throw new ChatArchivedError(archivedAncestor, 'An ancestor chat is archived; unarchive it instead');
    }
    const changed = await t.chats.setFamilyArchived(chat.id, false);
    // No stranded queue: a member at rest (not in error) with queued messages runs the oldest.
    for (const [i, member] of changed.entries()) {
      if (member.status === 'waiting' || member.status === 'paused') changed[i] = (await promoteOldest(t, member))?.chat ?? member;
    }
    return { chat: changed.find((c) => c.id === chat.id) ?? chat, chats: changed };
  });
  remember(ctx, ...result.chats);
  return result;
}

/** Moves the read marker forward to `messageId` (default: the newest message). Does not reorder the chat list. */
export async function markChatRead(input: { chatId: string; messageId?: string | null }, ctx: Context): Promise<{ chat: ChatRow }> {
  const result = await ctx.db.tx('markChatRead', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    if (input.messageId != null) {
      const [message] = await t.messages.byIds([input.messageId]);
      if (!message || message.chat_id !== chat.id) throw new NotFoundError('Message not found', input.messageId);
    }
    return { chat: await t.chats.markRead(chat.id, input.messageId ?? null) };
  });
  remember(ctx, result.chat);
  return result;
}
