import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** Plain text. */
export const ChatTextPart = builder.objectRef<Extract<MessagePart, { type: 'text' }>>('ChatTextPart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'text',
  fields: (t) => ({
    text: t.exposeString('text'),
  }),
});
