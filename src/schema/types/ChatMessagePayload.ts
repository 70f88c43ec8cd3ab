import type { ChatRow, MessageRow } from '../../db/models.js';
import { ChatArchivedError, InvalidModelConfigError } from '../../resolvers/errors.js';
import * as userMutations from '../../resolvers/userMutations.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatInputPart } from './ChatInputPart.js';
import { ChatMessage } from './ChatMessage.js';

/** A chat and the user message a mutation wrote into it. */
export const ChatMessagePayload = builder.objectRef<{ chat: ChatRow; message: MessageRow }>('ChatMessagePayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, resolve: (p) => p.chat }),
    message: t.field({ type: ChatMessage, resolve: (p) => p.message }),
  }),
});

const CreateChatInput = builder.inputType('CreateChatInput', {
  fields: (t) => ({
    content: t.field({ type: [ChatInputPart], required: true }),
    modelConfigId: t.id({ description: 'Default: the default model config.' }),
    workspaceId: t.id({ description: 'The workspace (a UUID) the agent works in.' }),
    labels: t.field({ type: 'JSON', description: 'A flat object of strings.' }),
    title: t.string({ description: "Default 'New Chat'." }),
  }),
});

const EditChatMessageInput = builder.inputType('EditChatMessageInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    messageId: t.id({ required: true, description: 'A user message; it and everything after it are replaced.' }),
    content: t.field({ type: [ChatInputPart], required: true }),
  }),
});

const PromoteQueuedMessageInput = builder.inputType('PromoteQueuedMessageInput', {
  fields: (t) => ({ chatId: t.id({ required: true }), queuedMessageId: t.id({ required: true }) }),
});

builder.mutationFields((t) => ({
  createChat: t.field({
    type: ChatMessagePayload,
    description: 'Start a chat: the chat (PENDING) and its first user message in one transaction.',
    errors: mutationErrors('createChat', [InvalidModelConfigError]),
    authScopes: { user: true },
    args: { input: t.arg({ type: CreateChatInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      userMutations.createChat(
        {
          ...input,
          workspaceId: input.workspaceId != null ? String(input.workspaceId) : null,
          modelConfigId: input.modelConfigId != null ? decodeId(String(input.modelConfigId), 'ChatModelConfig', 'modelConfigId') : null,
        },
        ctx,
      ),
  }),
  editChatMessage: t.field({
    type: ChatMessagePayload,
    description: 'Replace a user message: it and every later message are soft-deleted, the queue is cleared, the chat goes PENDING.',
    errors: mutationErrors('editChatMessage', [ChatArchivedError, InvalidModelConfigError]),
    authScopes: { user: true },
    args: { input: t.arg({ type: EditChatMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      userMutations.editChatMessage(
        { chatId: decodeId(String(input.chatId), 'Chat', 'chatId'), messageId: decodeId(String(input.messageId), 'ChatMessage', 'messageId'), content: input.content },
        ctx,
      ),
  }),
  promoteQueuedMessage: t.field({
    type: ChatMessagePayload,
    description: 'Send a queued message now, with the model chosen when it was queued.',
    errors: mutationErrors('promoteQueuedMessage', [ChatArchivedError, InvalidModelConfigError]),
    authScopes: { user: true },
    args: { input: t.arg({ type: PromoteQueuedMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      userMutations.promoteQueuedMessage(
        { chatId: decodeId(String(input.chatId), 'Chat', 'chatId'), queuedMessageId: decodeId(String(input.queuedMessageId), 'ChatQueuedMessage', 'queuedMessageId') },
        ctx,
      ),
  }),
}));
