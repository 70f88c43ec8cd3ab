import type { MessagePart } from '../../resolvers/content.js';
import { pendingToolCalls } from '../../resolvers/toolResults.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';

/** The model calls a tool. */
export const ChatToolCallPart = builder.objectRef<Extract<MessagePart, { type: 'tool-call' }>>('ChatToolCallPart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'tool-call',
  fields: (t) => ({
    toolCallId: t.exposeString('toolCallId'),
    toolName: t.exposeString('toolName'),
    args: t.field({ type: 'JSON', nullable: true, resolve: (part) => part.args }),
  }),
});

builder.objectField(Chat, 'pendingToolCalls', (t) =>
  t.field({
    type: [ChatToolCallPart],
    description:
      'REQUIRES_ACTION only (empty otherwise): tool calls of the last assistant message that no tool result answers yet. ' +
      'Answer them with submitToolResults.',
    resolve: (chat, _args, ctx) => pendingToolCalls(chat, ctx),
  }),
);
