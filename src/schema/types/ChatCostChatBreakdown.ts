import type { ChatCostRow } from '../../db/repos/costs.js';
import { chat } from '../../resolvers/chats.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';
import { ChatCostTotals } from './ChatCostTotals.js';

/** One root chat's share of a cost summary, its sub-agents rolled in. */
export const ChatCostChatBreakdown = builder.objectRef<ChatCostRow>('ChatCostChatBreakdown').implement({
  description: "One root chat's spend in a cost summary, its sub-agent chats rolled in.",
  fields: (t) => ({
    rootChatId: t.globalID({ resolve: (row) => ({ type: 'Chat', id: row.root_chat_id }) }),
    rootChat: t.field({ type: Chat, nullable: true, resolve: (row, _args, ctx) => chat({ id: row.root_chat_id }, ctx) }),
    chatTitle: t.exposeString('chat_title'),
    totals: t.field({ type: ChatCostTotals, resolve: (row) => row }),
    messageCount: t.exposeInt('message_count', { description: 'Assistant messages counted (priced, unpriced and usage-free).' }),
  }),
});
