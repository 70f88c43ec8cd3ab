import * as subscriptions from '../../resolvers/subscriptions.js';
import type { ChatStreamKind, StreamEvent } from '../../resolvers/subscriptions.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { Chat } from './Chat.js';
import { ChatMessage } from './ChatMessage.js';
import { ChatQueuedMessage } from './ChatQueuedMessage.js';

/** What happened inside one chat. */
export const ChatStreamEventKind = builder.enumType('ChatStreamEventKind', {
  values: {
    MESSAGE: { description: 'A message was added (`message`).' },
    MESSAGE_DELETED: { description: 'A message was edited away (`message`); the replacement follows as MESSAGE.' },
    STATUS: {},
    QUEUE_UPDATE: { description: 'The queue changed (`queuedMessages` is the whole queue, oldest first).' },
    DIFF_STATUS: {},
    MODEL_CONFIG: { description: "The chat's per-turn model changed." },
    TITLE: {},
    ARCHIVED: { description: 'The chat was archived or unarchived (see `chat.archived`).' },
  } as const satisfies Record<ChatStreamKind, object>,
});

/** One change inside one chat. */
export const ChatStreamEvent = builder.objectRef<StreamEvent<ChatStreamKind>>('ChatStreamEvent').implement({
  description: 'A change inside one chat. `chat` and `queuedMessages` are their state when the event was delivered.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Pass as `after` to resume right after this event.' }),
    kind: t.field({ type: ChatStreamEventKind, resolve: (e) => e.kind }),
    chat: t.field({ type: Chat, resolve: (e) => e.data.chat! }),
    message: t.field({ type: ChatMessage, nullable: true, description: 'MESSAGE and MESSAGE_DELETED only.', resolve: (e) => e.data.message }),
    queuedMessages: t.field({ type: [ChatQueuedMessage], nullable: true, description: 'QUEUE_UPDATE only.', resolve: (e) => e.data.queued }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When the change was written.' }),
    version: t.field({
      type: 'BigInt',
      description: "The chat's version after this change (message events: the chat's version when the message was written). Ignore an event whose version is below the highest you hold for the chat.",
      resolve: (e) => e.version!,
    }),
  }),
});

builder.subscriptionField('chatEvents', (t) =>
  t.field({
    type: ChatStreamEvent,
    description: 'Changes inside one chat you can read (NOT_FOUND otherwise). With `after`, replays what you missed first.',
    args: {
      chatId: t.arg.id({ required: true }),
      after: t.arg.string({ description: 'The cursor of the last event you received.' }),
    },
    subscribe: (_root, args, ctx) => subscriptions.chatEvents({ chatId: decodeId(String(args.chatId), 'Chat', 'chatId'), after: args.after }, ctx),
    resolve: (item, _args, ctx) => subscriptions.deliver(item, ctx),
  }),
);
