import * as subscriptions from '../../resolvers/subscriptions.js';
import type { ChatWatchKind, StreamEvent } from '../../resolvers/subscriptions.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';

/** What happened to a chat in the viewer's list (one stored event → at most one of these). */
export const ChatWatchEventKind = builder.enumType('ChatWatchEventKind', {
  values: {
    CREATED: { description: 'A chat was created, or unarchived.' },
    DELETED: { description: 'A chat was archived (it leaves the live list).' },
    STATUS_CHANGE: { description: 'The status changed (to anything but REQUIRES_ACTION).' },
    TITLE_CHANGE: {},
    DIFF_STATUS_CHANGE: { description: 'The pull-request status changed (refresh timestamps alone do not count).' },
    MODEL_CONFIG_CHANGE: { description: "The chat's per-turn model changed." },
    QUEUE_CHANGE: { description: 'Messages were queued, promoted, deleted or cleared.' },
    ACTION_REQUIRED: { description: 'The status became REQUIRES_ACTION. Sent instead of STATUS_CHANGE, not as well.' },
  } as const satisfies Record<ChatWatchKind, object>,
});

/** One change to one of the viewer's chats. */
export const ChatWatchEvent = builder.objectRef<StreamEvent<ChatWatchKind>>('ChatWatchEvent').implement({
  description: 'A change to one of your chats. `chat` is its state when the event was delivered.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Pass as `after` to resume right after this event.' }),
    kind: t.field({ type: ChatWatchEventKind, resolve: (e) => e.kind }),
    chat: t.field({ type: Chat, resolve: (e) => e.data.chat! }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When the change was written.' }),
    version: t.field({
      type: 'BigInt',
      description: "The chat's version after this change (message events: the chat's version when the message was written). Ignore an event whose version is below the highest you hold for the chat.",
      resolve: (e) => e.version!,
    }),
  }),
});

builder.subscriptionField('chatWatch', (t) =>
  t.field({
    type: ChatWatchEvent,
    description: "Changes to your chats (admins: every user's with allUsers). With `after`, replays what you missed first.",
    args: {
      after: t.arg.string({ description: 'The cursor of the last event you received.' }),
      allUsers: t.arg.boolean({ description: "Admins: every user's chats." }),
    },
    subscribe: (_root, args, ctx) => subscriptions.chatWatch(args, ctx),
    resolve: (item, _args, ctx) => subscriptions.deliver(item, ctx),
  }),
);
