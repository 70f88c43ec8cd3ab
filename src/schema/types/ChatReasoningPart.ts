import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** Model reasoning shown to the user. */
export const ChatReasoningPart = builder.objectRef<Extract<MessagePart, { type: 'reasoning' }>>('ChatReasoningPart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'reasoning',
  fields: (t) => ({
    text: t.exposeString('text'),
  }),
});
