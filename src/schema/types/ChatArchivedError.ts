import { ChatArchivedError as ChatArchivedErrorClass } from '../../resolvers/errors.js';
import { builder } from '../builder.js';
import { encodeGlobalID } from '../globalIds.js';
import { ErrorInterface } from './Error.js';

/** The chat is archived; unarchive it first. */
export const ChatArchivedError = builder.objectType(ChatArchivedErrorClass, {
  name: 'ChatArchivedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    chatId: t.field({ type: 'ID', resolve: (e) => encodeGlobalID('Chat', e.chatId) }),
  }),
});
