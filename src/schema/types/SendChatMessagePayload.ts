import { ChatArchivedError, InvalidModelConfigError, QueueFullError } from '../../resolvers/errors.js';
import type { SendResult } from '../../resolvers/userMutations.js';
import { sendChatMessage } from '../../resolvers/userMutations.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatInputPart } from './ChatInputPart.js';
import { ChatMessage } from './ChatMessage.js';
import { ChatQueuedMessage } from './ChatQueuedMessage.js';

/** Either the message was sent (idle chat) or queued (busy chat); `queued` tells which. */
export const SendChatMessagePayload = builder.objectRef<SendResult>('SendChatMessagePayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, resolve: (p) => p.chat }),
    message: t.field({ type: ChatMessage, nullable: true, resolve: (p) => p.message }),
    queuedMessage: t.field({ type: ChatQueuedMessage, nullable: true, resolve: (p) => p.queuedMessage }),
    queued: t.exposeBoolean('queued'),
  }),
});

const SendChatMessageInput = builder.inputType('SendChatMessageInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    content: t.field({ type: [ChatInputPart], required: true }),
    modelConfigId: t.id({ description: "This turn's model; default: the chat's last model, then the default config." }),
  }),
});

builder.mutationField('sendChatMessage', (t) =>
  t.field({
    type: SendChatMessagePayload,
    description: 'Send a message: an idle chat gets it and goes PENDING; a busy one queues it (FIFO, at most 20).',
    errors: mutationErrors('sendChatMessage', [InvalidModelConfigError, ChatArchivedError, QueueFullError]),
    authScopes: { user: true },
    args: { input: t.arg({ type: SendChatMessageInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      sendChatMessage(
        {
          chatId: decodeId(String(input.chatId), 'Chat', 'chatId'),
          content: input.content,
          modelConfigId: input.modelConfigId != null ? decodeId(String(input.modelConfigId), 'ChatModelConfig', 'modelConfigId') : null,
        },
        ctx,
      ),
  }),
);
