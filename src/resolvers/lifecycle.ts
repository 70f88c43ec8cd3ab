import type { Context } from '../context.js';
import type { DbTask } from '../db/index.js';
import type { ChatRow, QueuedMessageRow } from '../db/repos/chats.js';
import type { MessageRow } from '../db/repos/messages.js';
import { ChatArchivedError, ForbiddenError, NotFoundError, QueueFullError, ValidationError } from './errors.js';
import { contentFromInput, labelsFromInput, titleFromInput, type ChatInputPart } from './inputs.js';
import { isUuid } from './ids.js';
import { canRead } from './loaders.js';
import { fallbackModelConfig, resolveModelConfig } from './models.js';

/** Rule 4: at most this many queued messages per chat. */
export const MAX_QUEUED = 20;

/**
 * Locks a chat the viewer owns (rule 2: first statement of every chat mutation). Absent or
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

/** Rule 1: the chat (pending) and its first user message in one transaction. */
export async function createChat(input: CreateChatInput, ctx: Context): Promise<{ chat: ChatRow; message: MessageRow }> {
  const content = contentFromInput(input.content);
  const title = input.title != null ? titleFromInput(input.title) : 'New Chat';
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

/**
 * Rules 3-5: resolve the model; a busy chat (pending, running, or a non-empty queue, which
 * keeps FIFO) queues the message with that model; an idle chat gets the message and turns pending.
 */
export async function sendChatMessage(
  input: { chatId: string; content: readonly ChatInputPart[]; modelConfigId?: string | null },
  ctx: Context,
): Promise<SendResult> {
  const content = contentFromInput(input.content);
  const userId = ctx.viewer!.user.id;
  const result = await ctx.db.tx('sendChatMessage', async (t): Promise<SendResult> => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    assertLive(chat);
    const model = await resolveModelConfig(t, input.modelConfigId ?? null, chat.last_model_config_id);
    const waiting = await t.queue.count(chat.id);
    if (chat.status === 'pending' || chat.status === 'running' || waiting > 0) {
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
 * Rule 7 (and rule 8 when called by finishChatRun): turn a queued row into a user message with
 * its stored model, falling back to the chat's last model, then the default; the chat goes pending.
 */
export async function promoteQueued(t: DbTask, chat: ChatRow, queued: QueuedMessageRow): Promise<{ chat: ChatRow; message: MessageRow }> {
  const model = await fallbackModelConfig(t, queued.model_config_id, chat.last_model_config_id);
  const [message] = await t.messages.insert(
    chat.id,
    [{ role: 'user', visibility: 'both', content: queued.content as unknown[], model_config_id: model.id, created_by: queued.created_by }],
    model.id,
  );
  const updated = await t.chats.update(chat.id, { status: 'pending' });
  return { chat: updated, message: message! };
}

export async function promoteQueuedMessage(input: { chatId: string; queuedMessageId: string }, ctx: Context): Promise<{ chat: ChatRow; message: MessageRow }> {
  const result = await ctx.db.tx('promoteQueuedMessage', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    assertLive(chat);
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
 * Rule 11: soft-delete the user message and everything after it, insert the replacement (same
 * model as the original when it still exists), clear the queue, set pending.
 */
export async function editChatMessage(
  input: { chatId: string; messageId: string; content: readonly ChatInputPart[] },
  ctx: Context,
): Promise<{ chat: ChatRow; message: MessageRow }> {
  const content = contentFromInput(input.content);
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

/** Stops a pending or running chat: it becomes paused and the worker's claim is dropped. */
export async function interruptChat(input: { chatId: string }, ctx: Context): Promise<{ chat: ChatRow }> {
  const result = await ctx.db.tx('interruptChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    if (chat.status !== 'pending' && chat.status !== 'running') {
      throw new ValidationError(`Only a pending or running chat can be interrupted (it is ${chat.status})`, 'chatId');
    }
    return { chat: await t.chats.update(chat.id, { status: 'paused' }) };
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

/** Rule 10: archive the chat and (for a root) its whole family in one statement. Idempotent. */
export async function archiveChat(input: { chatId: string }, ctx: Context): Promise<{ chat: ChatRow; chats: ChatRow[] }> {
  const result = await ctx.db.tx('archiveChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    const changed = await t.chats.setFamilyArchived(chat.id, true);
    return { chat: changed.find((c) => c.id === chat.id) ?? chat, chats: changed };
  });
  remember(ctx, ...result.chats);
  return result;
}

/** Rule 10: unarchive restores a root's family; a child whose parent is archived cannot be unarchived. */
export async function unarchiveChat(input: { chatId: string }, ctx: Context): Promise<{ chat: ChatRow; chats: ChatRow[] }> {
  const result = await ctx.db.tx('unarchiveChat', async (t) => {
    const chat = await lockOwnChat(t, ctx, input.chatId);
    if (chat.parent_chat_id) {
      const [parent] = await t.chats.byIds([chat.parent_chat_id]);
      if (parent?.archived) throw new ChatArchivedError(parent.id, 'The parent chat is archived; unarchive the parent instead');
    }
    const changed = await t.chats.setFamilyArchived(chat.id, false);
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
