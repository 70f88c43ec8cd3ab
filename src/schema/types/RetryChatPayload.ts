import type { ChatRow, MessageRow } from '../../db/models.js';
import { ChatArchivedError } from '../../resolvers/errors.js';
import * as userMutations from '../../resolvers/userMutations.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatMessage } from './ChatMessage.js';

/** The chat after a retry, and the queued message it promoted (if any). */
export const RetryChatPayload = builder
  .objectRef<{ chat: ChatRow; promotedMessage: MessageRow | null; promotionError: string | null }>('RetryChatPayload')
  .implement({
    fields: (t) => ({
      chat: t.field({ type: Chat, resolve: (p) => p.chat }),
      promotedMessage: t.field({
        type: ChatMessage,
        nullable: true,
        description: 'The oldest queued message, now in the transcript; null when the last turn is simply re-run.',
        resolve: (p) => p.promotedMessage,
      }),
      promotionError: t.exposeString('promotionError', {
        nullable: true,
        description: 'Why the oldest queued message could not start (no usable model config); the chat is ERROR and the message stays queued.',
      }),
    }),
  });

const RetryChatInput = builder.inputType('RetryChatInput', {
  fields: (t) => ({ chatId: t.id({ required: true }) }),
});

builder.mutationField('retryChat', (t) =>
  t.field({
    type: RetryChatPayload,
    description:
      'Run a chat at rest (ERROR, WAITING, REQUIRES_ACTION…) again: the oldest queued message is promoted first; with an empty queue the last turn is re-run. The chat goes PENDING.',
    errors: mutationErrors('retryChat', [ChatArchivedError]),
    authScopes: { user: true },
    args: { input: t.arg({ type: RetryChatInput, required: true }) },
    resolve: (_root, { input }, ctx) => userMutations.retryChat({ chatId: decodeId(String(input.chatId), 'Chat', 'chatId') }, ctx),
  }),
);
