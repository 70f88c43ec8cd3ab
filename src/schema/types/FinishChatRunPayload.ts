import type { FinishResult } from '../../resolvers/runs.js';
import { finishChatRun } from '../../resolvers/runs.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatMessage } from './ChatMessage.js';
import { ChatStatus } from './ChatStatus.js';

/** The outcome of a finish: whether it applied, and the queued message it promoted. */
export const FinishChatRunPayload = builder.objectRef<FinishResult>('FinishChatRunPayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, description: 'The chat after the finish (as it is, when finished is false).', resolve: (p) => p.chat }),
    finished: t.exposeBoolean('finished', {
      description: 'False when this worker no longer owned the run (another worker, or not RUNNING): nothing was changed.',
    }),
    promotedMessage: t.field({
      type: ChatMessage,
      nullable: true,
      description: 'Finishing as WAITING promotes the oldest queued message (the chat goes PENDING again).',
      resolve: (p) => p.promotedMessage,
    }),
    promotionError: t.exposeString('promotionError', {
      nullable: true,
      description:
        'Set when the oldest queued message could not start (no usable model config): it stays queued and the chat went ERROR with this lastError; the finish still applied.',
    }),
  }),
});

const FinishChatRunInput = builder.inputType('FinishChatRunInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    workerId: t.string({ required: true }),
    status: t.field({ type: ChatStatus, required: true, description: 'WAITING, ERROR or REQUIRES_ACTION.' }),
    lastError: t.string({ description: 'Required for ERROR (at most 10000 characters); rejected otherwise.' }),
  }),
});

builder.mutationField('finishChatRun', (t) =>
  t.field({
    type: FinishChatRunPayload,
    description: 'Worker: end the run it owns. A late or repeated finish changes nothing and answers finished: false.',
    authScopes: { worker: true },
    errors: mutationErrors('finishChatRun'),
    args: { input: t.arg({ type: FinishChatRunInput, required: true }) },
    resolve: (_root, { input }, ctx) => finishChatRun({ ...input, chatId: decodeId(String(input.chatId), 'Chat', 'chatId') }, ctx),
  }),
);
