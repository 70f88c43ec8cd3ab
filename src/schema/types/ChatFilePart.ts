import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** An attached file. */
export const ChatFilePart = builder.objectRef<Extract<MessagePart, { type: 'file' }>>('ChatFilePart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'file',
  fields: (t) => ({
    mediaType: t.exposeString('mediaType'),
    fileId: t.exposeString('fileId'),
    name: t.exposeString('name', { nullable: true }),
  }),
});
