import type { ChatRow } from '../../db/models.js';
import { acquireChats } from '../../resolvers/runs.js';
import { builder } from '../builder.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';

/** The chats a worker just claimed. */
export const AcquireChatsPayload = builder.objectRef<{ chats: ChatRow[] }>('AcquireChatsPayload').implement({
  fields: (t) => ({
    chats: t.field({ type: [Chat], description: 'Now RUNNING for this worker, oldest-updated first; empty when nothing is pending.', resolve: (p) => p.chats }),
  }),
});

const AcquireChatsInput = builder.inputType('AcquireChatsInput', {
  fields: (t) => ({
    workerId: t.string({ required: true, description: 'Stable id of the worker process; heartbeats, appends and finishes must name it.' }),
    limit: t.int({ description: 'How many chats to claim at most: 1..10, default 1.' }),
  }),
});

builder.mutationField('acquireChats', (t) =>
  t.field({
    type: AcquireChatsPayload,
    description: 'Worker: claim pending chats (oldest-updated first). Racing workers never get the same chat.',
    authScopes: { worker: true },
    errors: mutationErrors('acquireChats'),
    args: { input: t.arg({ type: AcquireChatsInput, required: true }) },
    resolve: (_root, { input }, ctx) => acquireChats(input, ctx),
  }),
);
