import type { ChatRow, DiffStatusRow } from '../../db/models.js';
import { upsertChatDiffStatus } from '../../resolvers/diff.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatDiffStatus } from './ChatDiffStatus.js';
import { PullRequestState } from './PullRequestState.js';

/** A chat and the diff status just written for it. */
export const ChatDiffStatusPayload = builder.objectRef<{ chat: ChatRow; diffStatus: DiffStatusRow }>('ChatDiffStatusPayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, resolve: (p) => p.chat }),
    diffStatus: t.field({ type: ChatDiffStatus, resolve: (p) => p.diffStatus }),
  }),
});

const UpsertChatDiffStatusInput = builder.inputType('UpsertChatDiffStatusInput', {
  description: 'Every field of the diff status: the upsert replaces the whole row, so an omitted optional field is stored as null.',
  fields: (t) => ({
    chatId: t.id({ required: true }),
    url: t.string({ description: 'http(s) URL of the pull request.' }),
    pullRequestState: t.field({ type: PullRequestState }),
    pullRequestTitle: t.string({ required: true }),
    pullRequestDraft: t.boolean({ required: true }),
    changesRequested: t.boolean({ required: true }),
    additions: t.int({ required: true }),
    deletions: t.int({ required: true }),
    changedFiles: t.int({ required: true }),
    authorLogin: t.string(),
    authorAvatarUrl: t.string(),
    baseBranch: t.string(),
    headBranch: t.string(),
    prNumber: t.int(),
    commits: t.int(),
    approved: t.boolean(),
    reviewerCount: t.int(),
    refreshedAt: t.field({ type: 'DateTime' }),
    staleAt: t.field({ type: 'DateTime' }),
  }),
});

builder.mutationField('upsertChatDiffStatus', (t) =>
  t.field({
    type: ChatDiffStatusPayload,
    description: "Worker: write a chat's pull-request status (every field).",
    authScopes: { worker: true },
    errors: mutationErrors('upsertChatDiffStatus'),
    args: { input: t.arg({ type: UpsertChatDiffStatusInput, required: true }) },
    resolve: (_root, { input }, ctx) => upsertChatDiffStatus({ ...input, chatId: decodeId(String(input.chatId), 'Chat', 'chatId') }, ctx),
  }),
);
