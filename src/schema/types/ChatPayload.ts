import type { ChatRow } from '../../db/models.js';
import * as userMutations from '../../resolvers/userMutations.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';

/** The chat after a mutation that changes only the chat itself. */
export const ChatPayload = builder.objectRef<{ chat: ChatRow }>('ChatPayload').implement({
  fields: (t) => ({ chat: t.field({ type: Chat, resolve: (p) => p.chat }) }),
});

const InterruptChatInput = builder.inputType('InterruptChatInput', {
  fields: (t) => ({ chatId: t.id({ required: true }) }),
});
const DeleteQueuedMessageInput = builder.inputType('DeleteQueuedMessageInput', {
  fields: (t) => ({ chatId: t.id({ required: true }), queuedMessageId: t.id({ required: true }) }),
});
const MarkChatReadInput = builder.inputType('MarkChatReadInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    messageId: t.id({ description: 'Read up to this message (default: the newest).' }),
  }),
});
const UpdateChatInput = builder.inputType('UpdateChatInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    title: t.string(),
    labels: t.field({ type: 'JSON', description: 'Replaces the labels: a flat object of strings.' }),
    pinOrder: t.int({ description: '0 = not pinned; higher pins first.' }),
  }),
});

const chatId = (input: { chatId: string | number }) => decodeId(String(input.chatId), 'Chat', 'chatId');

builder.mutationFields((t) => ({
  interruptChat: t.field({
    type: ChatPayload,
    description: 'Stop a pending or running chat: it goes WAITING, or with messages queued straight on to the oldest (PENDING).',
    errors: mutationErrors('interruptChat'),
    authScopes: { user: true },
    args: { input: t.arg({ type: InterruptChatInput, required: true }) },
    resolve: (_root, { input }, ctx) => userMutations.interruptChat({ chatId: chatId(input) }, ctx),
  }),
  deleteQueuedMessage: t.field({
    type: ChatPayload,
    errors: mutationErrors('deleteQueuedMessage'),
    authScopes: { user: true },
    args: { input: t.arg({ type: DeleteQueuedMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      userMutations.deleteQueuedMessage({ chatId: chatId(input), queuedMessageId: decodeId(String(input.queuedMessageId), 'ChatQueuedMessage', 'queuedMessageId') }, ctx),
  }),
  updateChat: t.field({
    type: ChatPayload,
    errors: mutationErrors('updateChat'),
    authScopes: { user: true },
    args: { input: t.arg({ type: UpdateChatInput, required: true }) },
    resolve: (_root, { input }, ctx) => userMutations.updateChat({ ...input, chatId: chatId(input) }, ctx),
  }),
  markChatRead: t.field({
    type: ChatPayload,
    errors: mutationErrors('markChatRead'),
    authScopes: { user: true },
    args: { input: t.arg({ type: MarkChatReadInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      userMutations.markChatRead({ chatId: chatId(input), messageId: input.messageId != null ? decodeId(String(input.messageId), 'ChatMessage', 'messageId') : null }, ctx),
  }),
}));
