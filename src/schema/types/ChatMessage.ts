import type { MessageRow } from '../../db/models.js';
import * as messages from '../../resolvers/messages.js';
import { modelConfig } from '../../resolvers/models.js';
import { user } from '../../resolvers/users.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';
import { ChatMessagePart } from './ChatMessagePart.js';
import { ChatMessageRole } from './ChatMessageRole.js';
import { ChatMessageUsage } from './ChatMessageUsage.js';
import { ChatMessageVisibility } from './ChatMessageVisibility.js';
import { ChatModelConfig } from './ChatModelConfig.js';
import { User } from './User.js';

/** One message of a chat transcript. */
export const ChatMessage = builder.objectRef<MessageRow>('ChatMessage');

builder.node(ChatMessage, {
  id: { resolve: (message) => message.id },
  loadOne: (id, ctx) => messages.message({ id }, ctx),
  fields: (t) => ({
    databaseId: t.field({ type: 'BigInt', description: 'The row id: ordering key and markChatRead argument.', resolve: (m) => m.id }),
    chat: t.field({ type: Chat, resolve: async (m, _args, ctx) => (await ctx.loaders.chat.load(m.chat_id))! }),
    role: t.field({ type: ChatMessageRole, resolve: (m) => m.role }),
    visibility: t.field({ type: ChatMessageVisibility, resolve: (m) => m.visibility }),
    contentVersion: t.exposeInt('content_version'),
    parts: t.field({
      type: [ChatMessagePart],
      description: 'Content as parts; an unreadable stored version is an error on this field only.',
      resolve: (m, _args, ctx) => {
        ctx.budget.chargeJson(m.content);
        return messages.parts(m);
      },
    }),
    usage: t.field({ type: ChatMessageUsage, nullable: true, resolve: (m) => messages.usage(m) }),
    totalCostMicros: t.field({
      type: 'BigInt',
      nullable: true,
      description: 'Cost in micro-USD, rounded up once; null when the model had no price, 0 when free.',
      resolve: (m) => m.total_cost_micros,
    }),
    runtimeMs: t.field({ type: 'BigInt', nullable: true, resolve: (m) => m.runtime_ms }),
    modelConfig: t.field({ type: ChatModelConfig, nullable: true, resolve: (m, _args, ctx) => modelConfig(m.model_config_id, ctx) }),
    createdBy: t.field({ type: User, nullable: true, resolve: (m, _args, ctx) => user(m.created_by, ctx) }),
    compressed: t.exposeBoolean('compressed'),
    createdAt: t.expose('created_at', { type: 'DateTime' }),
  }),
});

builder.objectFields(Chat, (t) => ({
  messages: t.connection(
    {
      type: ChatMessage,
      description: 'The transcript the user sees (not model-only, not edited away), oldest first; use last for the newest page.',
      resolve: (chat, args, ctx) => messages.chatMessages(chat, args, ctx),
    },
    { name: 'ChatMessageConnection' },
    { name: 'ChatMessageEdge' },
  ),
  promptMessages: t.field({
    type: [ChatMessage],
    // Items are nullable so an unreadable message (unknown content version) is an error on that
    // item only, as in `messages`, instead of nulling the whole chat.
    nullable: { list: false, items: true },
    authScopes: { worker: true, admin: true },
    description:
      'Worker/admin: what the model is sent (system messages, the newest summary and what follows it). An unreadable message is null with an UNREADABLE_CONTENT error at its path.',
    resolve: (chat, _args, ctx) => messages.promptMessages(chat, ctx),
  }),
}));
