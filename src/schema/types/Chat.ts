import type { ChatRow } from '../../db/models.js';
import * as chats from '../../resolvers/chats.js';
import { user } from '../../resolvers/users.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { selects } from '../selection.js';
import { ChatStatus } from './ChatStatus.js';
import { User } from './User.js';

/**
 * An agent chat. Relations that other files own (messages, queue, diff status, model config,
 * cost, pending tool calls) are attached there with builder.objectField, beside the type they
 * return, so this file imports none of them (no import cycle). Every Chat field defined elsewhere:
 *
 *   cost              ChatCostTotals.ts
 *   diffStatus        ChatDiffStatus.ts
 *   lastModelConfig   ChatModelConfig.ts
 *   messages          ChatMessage.ts
 *   pendingToolCalls  ChatToolCallPart.ts
 *   promptMessages    ChatMessage.ts
 *   queuedMessages    ChatQueuedMessage.ts
 *
 * test/layout.test.ts fails when this list and the fields attached elsewhere differ.
 */
export const Chat = builder.objectRef<ChatRow>('Chat');

builder.node(Chat, {
  id: { resolve: (chat) => chat.id },
  loadMany: (ids, ctx) => Promise.all(ids.map((id) => ctx.loaders.chat.load(id))),
  fields: (t) => ({
    title: t.exposeString('title'),
    status: t.field({ type: ChatStatus, resolve: (chat) => chat.status }),
    lastError: t.exposeString('last_error', { nullable: true }),
    archived: t.exposeBoolean('archived'),
    pinOrder: t.exposeInt('pin_order'),
    labels: t.field({ type: 'JSON', resolve: (chat) => chat.labels }),
    workspaceId: t.exposeString('workspace_id', { nullable: true }),
    createdAt: t.expose('created_at', { type: 'DateTime' }),
    updatedAt: t.expose('updated_at', { type: 'DateTime' }),
    version: t.field({
      type: 'BigInt',
      description: "Increases with every change to the chat's state, queue or diff status (never with a message): keep the highest you have seen and ignore anything older.",
      resolve: (chat) => chat.version,
    }),
    owner: t.field({ type: User, resolve: async (chat, _args, ctx) => (await user(chat.owner_id, ctx))! }),
    parent: t.field({ type: Chat, nullable: true, description: 'The chat that spawned this sub-agent.', resolve: (chat, _args, ctx) => chats.parent(chat, ctx) }),
    root: t.field({ type: Chat, nullable: true, description: 'The root of the family (null for a root).', resolve: (chat, _args, ctx) => chats.root(chat, ctx) }),
    children: t.field({ type: [Chat], description: 'Sub-agent chats, oldest first.', resolve: (chat, _args, ctx) => chats.children(chat, ctx) }),
    lastTurnSummary: t.string({
      nullable: true,
      description: 'Text of the last assistant message, whitespace-collapsed and cut to 200 characters.',
      resolve: (chat, _args, ctx) => chats.lastTurnSummary(chat, ctx),
    }),
    hasUnread: t.boolean({
      description: 'An assistant message arrived after the last markChatRead.',
      resolve: (chat, _args, ctx) => chats.hasUnread(chat, ctx),
    }),
  }),
});

builder.queryFields((t) => ({
  chat: t.field({
    type: Chat,
    nullable: true,
    description: 'A chat by ID; null when it does not exist or is not yours.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => chats.chat({ id: decodeId(String(args.id), 'Chat', 'id') }, ctx),
  }),
  chats: t.connection(
    {
      type: Chat,
      description: 'Your root chats (children with includeChildren), most recently updated first.',
      args: {
        archived: t.arg.boolean({ description: 'Absent: all; true/false: only archived / only live chats.' }),
        labels: t.arg({ type: 'JSON', description: 'A JSON object; only chats whose labels contain it.' }),
        includeChildren: t.arg.boolean({ description: 'Also list sub-agent chats (default false).' }),
        allUsers: t.arg.boolean({ description: 'Admins: list every user\'s chats.' }),
      },
      resolve: (_root, args, ctx, info) => chats.chats({ ...args, withCount: selects(info, 'totalCount') }, ctx),
    },
    {
      name: 'ChatConnection',
      fields: (c) => ({
        totalCount: c.int({
          description: 'Chats matching the filter (all pages).',
          resolve: (connection) => (connection as unknown as { totalCount: () => Promise<number> }).totalCount(),
        }),
      }),
    },
    { name: 'ChatEdge' },
  ),
}));
