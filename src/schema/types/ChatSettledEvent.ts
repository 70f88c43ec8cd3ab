import * as events from '../../resolvers/subscriptions.js';
import type { SettledItem } from '../../resolvers/subscriptions.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { Chat } from './Chat.js';

/** One watched chat reached a settled status. */
export const ChatSettledEvent = builder.objectRef<SettledItem>('ChatSettledEvent').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, description: 'The chat as it settled (status WAITING, ERROR, REQUIRES_ACTION, PAUSED or COMPLETED).', resolve: (e) => e.chat }),
    remaining: t.exposeInt('remaining', { description: 'Watched chats not settled yet; the stream completes after the event where this is 0.' }),
  }),
});

builder.subscriptionField('chatsSettled', (t) =>
  t.field({
    type: ChatSettledEvent,
    description:
      'Worker: each of `chatIds` once, as it reaches a settled status (those already settled first); completes when all have. ' +
      'How a parent waits for its sub-agents without polling.',
    authScopes: { worker: true },
    args: { chatIds: t.arg.idList({ required: true, description: '1..100 chats.' }) },
    subscribe: (_root, args, ctx) => events.chatsSettled({ chatIds: args.chatIds.map((id, i) => decodeId(String(id), 'Chat', `chatIds[${i}]`)) }, ctx),
    resolve: (item, _args, ctx) => {
      if ('failure' in item) throw item.failure;
      ctx.loaders = events.freshLoaders(ctx, item.chat);
      return item;
    },
  }),
);
