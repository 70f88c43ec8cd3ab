import { heartbeatChats } from '../../resolvers/runs.js';
import { builder } from '../builder.js';
import { decodeId, encodeGlobalID } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';

/** Which of the worker's runs are still its own. */
export const HeartbeatChatsPayload = builder.objectRef<{ refreshedChatIds: string[]; lostChatIds: string[] }>('HeartbeatChatsPayload').implement({
  fields: (t) => ({
    refreshedChatIds: t.field({
      type: ['ID'],
      description: 'Chats this worker still runs; their heartbeat was refreshed.',
      resolve: (p) => p.refreshedChatIds.map((id) => encodeGlobalID('Chat', id)),
    }),
    lostChatIds: t.field({
      type: ['ID'],
      description: 'Chats this worker no longer owns (reclaimed, interrupted, archived, finished, or gone): stop working on them.',
      resolve: (p) => p.lostChatIds.map((id) => encodeGlobalID('Chat', id)),
    }),
  }),
});

const HeartbeatChatsInput = builder.inputType('HeartbeatChatsInput', {
  fields: (t) => ({
    workerId: t.string({ required: true }),
    chatIds: t.idList({ required: true, description: 'The chats the worker is running (at most 100).' }),
  }),
});

builder.mutationField('heartbeatChats', (t) =>
  t.field({
    type: HeartbeatChatsPayload,
    description: 'Worker: keep runs alive (a run without a heartbeat for STALE_RUN_SECONDS goes back to PENDING). Does not reorder the chat list.',
    authScopes: { worker: true },
    errors: mutationErrors('heartbeatChats'),
    args: { input: t.arg({ type: HeartbeatChatsInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      heartbeatChats({ workerId: input.workerId, chatIds: input.chatIds.map((id, i) => decodeId(String(id), 'Chat', `chatIds[${i}]`)) }, ctx),
  }),
);
