import type { QueuedMessageRow } from '../../db/models.js';
import { queuedMessages } from '../../resolvers/chats.js';
import { parts } from '../../resolvers/messages.js';
import { modelConfig } from '../../resolvers/models.js';
import { user } from '../../resolvers/users.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';
import { ChatMessagePart } from './ChatMessagePart.js';
import { ChatModelConfig } from './ChatModelConfig.js';
import { User } from './User.js';

/** A message sent while the chat was busy; promoted in FIFO order with the model chosen when queued. */
export const ChatQueuedMessage = builder.objectRef<QueuedMessageRow>('ChatQueuedMessage');

builder.node(ChatQueuedMessage, {
  id: { resolve: (q) => q.id },
  // Queued messages are reached through their chat; a direct node lookup is not offered.
  loadOne: () => null,
  fields: (t) => ({
    databaseId: t.field({ type: 'BigInt', resolve: (q) => q.id }),
    chat: t.field({ type: Chat, resolve: async (q, _args, ctx) => (await ctx.loaders.chat.load(q.chat_id))! }),
    parts: t.field({
      type: [ChatMessagePart],
      resolve: (q, _args, ctx) => {
        ctx.budget.chargeJson(q.content);
        return parts({ content: q.content, content_version: 1, role: 'user' });
      },
    }),
    modelConfig: t.field({ type: ChatModelConfig, nullable: true, description: 'The model resolved when it was queued.', resolve: (q, _args, ctx) => modelConfig(q.model_config_id, ctx) }),
    createdBy: t.field({ type: User, nullable: true, resolve: (q, _args, ctx) => user(q.created_by, ctx) }),
    createdAt: t.expose('created_at', { type: 'DateTime' }),
  }),
});

builder.objectField(Chat, 'queuedMessages', (t) =>
  t.field({ type: [ChatQueuedMessage], description: 'Oldest first.', resolve: (chat, _args, ctx) => queuedMessages(chat, ctx) }),
);
