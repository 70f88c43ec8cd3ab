import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** What a tool returned. */
export const ChatToolResultPart = builder.objectRef<Extract<MessagePart, { type: 'tool-result' }>>('ChatToolResultPart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'tool-result',
  fields: (t) => ({
    toolCallId: t.exposeString('toolCallId'),
    toolName: t.exposeString('toolName'),
    result: t.field({ type: 'JSON', nullable: true, resolve: (part) => part.result }),
    isError: t.exposeBoolean('isError'),
  }),
});
