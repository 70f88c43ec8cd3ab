import type { ChatRow } from '../../db/models.js';
import { ChatArchivedError } from '../../resolvers/errors.js';
import { archiveChat, unarchiveChat } from '../../resolvers/userMutations.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';

/** The chat an archive mutation was called on, and every family member it changed. */
export const ChatFamilyPayload = builder.objectRef<{ chat: ChatRow; chats: ChatRow[] }>('ChatFamilyPayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, resolve: (p) => p.chat }),
    changedChats: t.field({ type: [Chat], description: 'Members whose archived flag changed (empty when it already was).', resolve: (p) => p.chats }),
  }),
});

const ArchiveChatInput = builder.inputType('ArchiveChatInput', { fields: (t) => ({ chatId: t.id({ required: true }) }) });
const UnarchiveChatInput = builder.inputType('UnarchiveChatInput', { fields: (t) => ({ chatId: t.id({ required: true }) }) });

builder.mutationFields((t) => ({
  archiveChat: t.field({
    type: ChatFamilyPayload,
    description: 'Archive a chat; archiving a root archives its sub-agents too. Pending/running members become WAITING.',
    errors: mutationErrors('archiveChat'),
    authScopes: { user: true },
    args: { input: t.arg({ type: ArchiveChatInput, required: true }) },
    resolve: (_root, { input }, ctx) => archiveChat({ chatId: decodeId(String(input.chatId), 'Chat', 'chatId') }, ctx),
  }),
  unarchiveChat: t.field({
    type: ChatFamilyPayload,
    description: "Unarchive a chat (a root restores its family); a child whose parent is archived can't be.",
    errors: mutationErrors('unarchiveChat', [ChatArchivedError]),
    authScopes: { user: true },
    args: { input: t.arg({ type: UnarchiveChatInput, required: true }) },
    resolve: (_root, { input }, ctx) => unarchiveChat({ chatId: decodeId(String(input.chatId), 'Chat', 'chatId') }, ctx),
  }),
}));
