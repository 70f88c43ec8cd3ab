import * as subscriptions from '../../resolvers/subscriptions.js';
import type { ChatStreamKind, StreamEvent } from '../../resolvers/subscriptions.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { Chat } from './Chat.js';
import { ChatMessage } from './ChatMessage.js';
import { ChatMessagePartDelta } from './ChatMessagePartDelta.js';
import { ChatQueueChange } from './ChatQueueChange.js';
import { ChatQueuedMessage } from './ChatQueuedMessage.js';

/** What happened inside one chat. */
export const ChatStreamEventKind = builder.enumType('ChatStreamEventKind', {
  values: {
    MESSAGE: { description: 'A message was added (`message`).' },
    MESSAGE_DELETED: { description: 'A message was edited away (`message`); the replacement follows as MESSAGE.' },
    STATUS: {},
    QUEUE_UPDATE: { description: 'The queue changed: `queueChange` says how (small); `queuedMessages` is the whole queue, oldest first.' },
    DIFF_STATUS: {},
    MODEL_CONFIG: { description: "The chat's per-turn model changed." },
    TITLE: {},
    ARCHIVED: { description: 'The chat was archived or unarchived (see `chat.archived`).' },
    CHILD_UPDATE: { description: 'A sub-agent of this chat appeared, changed status or title, or was (un)archived (`child`).' },
    MESSAGE_PART: {
      description:
        'Live deltas of the assistant message being generated (`attempt`, `seq`, `parts`); not stored, never replayed. ' +
        'An assistant MESSAGE supersedes them.',
    },
    PREVIEW_RESET: { description: 'Drop the partial output shown so far (a new attempt, or the run ended without a message).' },
  } as const satisfies Record<ChatStreamKind, object>,
});

/** One change inside one chat. */
export const ChatStreamEvent = builder.objectRef<StreamEvent<ChatStreamKind>>('ChatStreamEvent').implement({
  description: 'A change inside one chat. `chat` and `queuedMessages` are their state when the event was delivered.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Pass as `after` to resume right after this event.' }),
    kind: t.field({ type: ChatStreamEventKind, resolve: (e) => e.kind }),
    chat: t.field({
      type: Chat,
      description: 'The subscribed chat (for CHILD_UPDATE too: the child is `child`).',
      resolve: async (e, _args, ctx) => (e.kind === 'CHILD_UPDATE' ? (await ctx.loaders.chat.load(e.data.chat!.parent_chat_id!))! : e.data.chat!),
    }),
    child: t.field({ type: Chat, nullable: true, description: 'CHILD_UPDATE only: the sub-agent.', resolve: (e) => (e.kind === 'CHILD_UPDATE' ? e.data.chat : null) }),
    attempt: t.int({ nullable: true, description: 'MESSAGE_PART and PREVIEW_RESET: the generation attempt.', resolve: (e) => e.preview?.attempt ?? null }),
    seq: t.int({ nullable: true, description: 'MESSAGE_PART: 0, 1, 2… within the attempt, each delivered once, in order.', resolve: (e) => e.preview?.seq ?? null }),
    parts: t.field({ type: [ChatMessagePartDelta], nullable: true, description: 'MESSAGE_PART: the deltas, in order.', resolve: (e) => (e.kind === 'MESSAGE_PART' ? e.preview!.parts : null) }),
    message: t.field({ type: ChatMessage, nullable: true, description: 'MESSAGE and MESSAGE_DELETED only.', resolve: (e) => e.data.message }),
    queueChange: t.field({
      type: ChatQueueChange,
      nullable: true,
      description: 'QUEUE_UPDATE only: what changed (added, updated and removed queued messages, the new length). Prefer it to `queuedMessages`: it stays small however long the queue.',
      resolve: (e) => e.data.queueChange,
    }),
    queuedMessages: t.field({
      type: [ChatQueuedMessage],
      nullable: true,
      description: 'QUEUE_UPDATE only: the whole queue, oldest first (large when queued messages are; `queueChange` is the small form).',
      resolve: (e) => e.data.queued?.() ?? null,
    }),
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
