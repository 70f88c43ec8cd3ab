import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';

/** Lines of a file the user pointed at. */
export const ChatFileReferencePart = builder.objectRef<Extract<MessagePart, { type: 'file-reference' }>>('ChatFileReferencePart').implement({
  isTypeOf: (part) => (part as MessagePart).type === 'file-reference',
  fields: (t) => ({
    fileName: t.exposeString('fileName'),
    startLine: t.exposeInt('startLine'),
    endLine: t.exposeInt('endLine'),
    content: t.exposeString('content'),
  }),
});
