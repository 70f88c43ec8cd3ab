import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** A file loaded into the context. */
export const ChatContextFilePart = builder.objectRef<Extract<MessagePart, { type: 'context-file' }>>('ChatContextFilePart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'context-file',
  fields: (t) => ({
    path: t.exposeString('path'),
    truncated: t.exposeBoolean('truncated'),
  }),
});
