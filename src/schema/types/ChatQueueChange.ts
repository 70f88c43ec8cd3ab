import type { QueueChange } from '../../events/payload.js';
import { builder } from '../builder.js';
import { encodeGlobalID } from '../globalIds.js';
import { ChatQueuedMessage } from './ChatQueuedMessage.js';

/**
 * What a QUEUE_UPDATE changed, so that the event stays small however long the queue is: the
 * client applies the change to the queue it holds (src/liveMerge.ts in the example client shows
 * how) and refetches `Chat.queuedMessages` only when `length` disagrees with what it holds.
 */
export const ChatQueueChange = builder.objectRef<QueueChange>('ChatQueueChange').implement({
  description:
    'What one queue change did. Apply it to the queue you hold: drop `removedIds`, replace `updated`, append `added` (oldest first); ' +
    'if your queue then has a different length than `length`, refetch `Chat.queuedMessages`.',
  fields: (t) => ({
    added: t.field({
      type: [ChatQueuedMessage],
      description: 'Messages this change queued that were still queued when the event was delivered, oldest first.',
      resolve: (c) => c.added(),
    }),
    updated: t.field({ type: [ChatQueuedMessage], description: 'Queued messages this change edited (still queued when delivered).', resolve: (c) => c.updated() }),
    removedIds: t.idList({
      description: 'Ids of the queued messages this change removed: promoted, deleted or cleared.',
      resolve: (c) => c.removedIds.map((id) => encodeGlobalID('ChatQueuedMessage', id)),
    }),
    length: t.int({ description: 'How many messages the queue held right after this change.', resolve: (c) => c.length() }),
  }),
});
