import { RateLimitedError as RateLimited } from '../../resolvers/errors.js';
import { publishChatMessageParts } from '../../resolvers/messageParts.js';
import { builder } from '../builder.js';
import { decodeId, encodeGlobalID } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import './RateLimitedError.js';

/** The batch was relayed (to every replica; nothing is stored). */
export const PublishChatMessagePartsPayload = builder.objectRef<{ chatId: string; attempt: number; seq: number }>('PublishChatMessagePartsPayload').implement({
  fields: (t) => ({
    chatId: t.id({ resolve: (p) => encodeGlobalID('Chat', p.chatId) }),
    attempt: t.exposeInt('attempt'),
    seq: t.exposeInt('seq'),
  }),
});

const PublishChatMessagePartsInput = builder.inputType('PublishChatMessagePartsInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    workerId: t.string({ required: true }),
    attempt: t.int({ required: true, description: 'The generation attempt; a higher number starts a new preview (clients get PREVIEW_RESET).' }),
    seq: t.int({ required: true, description: '0, 1, 2… within the attempt.' }),
    parts: t.field({
      type: 'JSON',
      required: true,
      description: '1..100 deltas, at most 32 KiB: {"type":"text","text":"…"}, {"type":"reasoning","text":"…"}, {"type":"tool-call","toolCallId":"…","toolName":"…","argsDelta":"…"}.',
    }),
  }),
});

builder.mutationField('publishChatMessageParts', (t) =>
  t.field({
    type: PublishChatMessagePartsPayload,
    description:
      'Worker: stream deltas of the message it is generating to chatEvents subscribers (MESSAGE_PART). Only the run\'s worker may publish ' +
      '(ForbiddenError otherwise); a burst past the per-chat rate is RateLimitedError. Works over graphql-ws, so no HTTP request per batch.',
    authScopes: { worker: true },
    errors: mutationErrors('publishChatMessageParts', [RateLimited]),
    args: { input: t.arg({ type: PublishChatMessagePartsInput, required: true }) },
    resolve: (_root, { input }, ctx) => publishChatMessageParts({ ...input, chatId: decodeId(String(input.chatId), 'Chat', 'chatId') }, ctx),
  }),
);
