import type { ChatRow, MessageRow } from '../../db/models.js';
import { InvalidModelConfigError } from '../../resolvers/errors.js';
import { appendChatMessages } from '../../resolvers/runs.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatMessage } from './ChatMessage.js';
import { ChatMessageRole } from './ChatMessageRole.js';
import { ChatMessageVisibility } from './ChatMessageVisibility.js';

/** The messages a worker appended to its run, in order. */
export const AppendChatMessagesPayload = builder.objectRef<{ chat: ChatRow; messages: MessageRow[] }>('AppendChatMessagesPayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, resolve: (p) => p.chat }),
    messages: t.field({ type: [ChatMessage], resolve: (p) => p.messages }),
  }),
});

const ChatMessageUsageInput = builder.inputType('ChatMessageUsageInput', {
  description: 'Token usage of a model turn. Reasoning tokens are part of outputTokens and are not billed again.',
  fields: (t) => ({
    inputTokens: t.field({ type: 'BigInt' }),
    outputTokens: t.field({ type: 'BigInt' }),
    totalTokens: t.field({ type: 'BigInt' }),
    reasoningTokens: t.field({ type: 'BigInt' }),
    cacheCreationTokens: t.field({ type: 'BigInt', description: 'Billed at the cache-write price.' }),
    cacheReadTokens: t.field({ type: 'BigInt' }),
    contextLimit: t.field({ type: 'BigInt' }),
  }),
});

const ChatMessageInput = builder.inputType('ChatMessageInput', {
  fields: (t) => ({
    role: t.field({ type: ChatMessageRole, required: true }),
    visibility: t.field({ type: ChatMessageVisibility, description: 'Default BOTH.' }),
    parts: t.field({
      type: 'JSON',
      required: true,
      description: 'Version-1 parts: a JSON array such as [{"type":"text","text":"…"}] (at most 500 parts, 512 KiB).',
    }),
    modelConfigId: t.id({ description: "The model that produced the message; assistant messages default to the chat's last model." }),
    usage: t.field({ type: ChatMessageUsageInput }),
    runtimeMs: t.field({ type: 'BigInt' }),
    compressed: t.boolean({ description: 'A compression summary (stored as role USER) or a message it replaced. Default false.' }),
  }),
});

const AppendChatMessagesInput = builder.inputType('AppendChatMessagesInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    workerId: t.string({ required: true }),
    messages: t.field({ type: [ChatMessageInput], required: true, description: '1..50 messages, stored in this order.' }),
  }),
});

builder.mutationField('appendChatMessages', (t) =>
  t.field({
    type: AppendChatMessagesPayload,
    description:
      'Worker: append messages to the run it owns; assistant messages are priced from their usage. ' +
      'A worker that no longer owns the run (reclaimed, interrupted, archived) gets ForbiddenError and nothing is written.',
    authScopes: { worker: true },
    errors: mutationErrors('appendChatMessages', [InvalidModelConfigError]),
    args: { input: t.arg({ type: AppendChatMessagesInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      appendChatMessages(
        {
          chatId: decodeId(String(input.chatId), 'Chat', 'chatId'),
          workerId: input.workerId,
          messages: input.messages.map((m, i) => ({
            ...m,
            modelConfigId: m.modelConfigId != null ? decodeId(String(m.modelConfigId), 'ChatModelConfig', `messages[${i}].modelConfigId`) : null,
          })),
        },
        ctx,
      ),
  }),
);
