import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** The model calls a tool. */
export const ChatToolCallPart = builder.objectRef<Extract<MessagePart, { type: 'tool-call' }>>('ChatToolCallPart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'tool-call',
  fields: (t) => ({
    toolCallId: t.exposeString('toolCallId'),
    toolName: t.exposeString('toolName'),
    args: t.field({ type: 'JSON', nullable: true, resolve: (part) => part.args }),
  }),
});
