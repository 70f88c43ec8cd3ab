import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** A source the model cites. */
export const ChatSourcePart = builder.objectRef<Extract<MessagePart, { type: 'source' }>>('ChatSourcePart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'source',
  fields: (t) => ({
    url: t.exposeString('url'),
    title: t.exposeString('title', { nullable: true }),
  }),
});
