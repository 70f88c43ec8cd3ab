import type { DiffStatusRow } from '../../db/models.js';
import { diffStatus } from '../../resolvers/chats.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';
import { PullRequestState } from './PullRequestState.js';

/** The pull request a chat works on, as last refreshed by the worker. */
export const ChatDiffStatus = builder.objectRef<DiffStatusRow>('ChatDiffStatus').implement({
  fields: (t) => ({
    url: t.exposeString('url', { nullable: true }),
    pullRequestState: t.field({ type: PullRequestState, nullable: true, resolve: (d) => d.pull_request_state }),
    pullRequestTitle: t.exposeString('pull_request_title'),
    pullRequestDraft: t.exposeBoolean('pull_request_draft'),
    changesRequested: t.exposeBoolean('changes_requested'),
    additions: t.exposeInt('additions'),
    deletions: t.exposeInt('deletions'),
    changedFiles: t.exposeInt('changed_files'),
    authorLogin: t.exposeString('author_login', { nullable: true }),
    authorAvatarUrl: t.exposeString('author_avatar_url', { nullable: true }),
    baseBranch: t.exposeString('base_branch', { nullable: true }),
    headBranch: t.exposeString('head_branch', { nullable: true }),
    prNumber: t.exposeInt('pr_number', { nullable: true }),
    commits: t.exposeInt('commits', { nullable: true }),
    approved: t.exposeBoolean('approved', { nullable: true }),
    reviewerCount: t.exposeInt('reviewer_count', { nullable: true }),
    refreshedAt: t.expose('refreshed_at', { type: 'DateTime', nullable: true }),
    staleAt: t.expose('stale_at', { type: 'DateTime', nullable: true }),
    updatedAt: t.expose('updated_at', { type: 'DateTime' }),
  }),
});

builder.objectField(Chat, 'diffStatus', (t) =>
  t.field({ type: ChatDiffStatus, nullable: true, resolve: (chat, _args, ctx) => diffStatus(chat, ctx) }),
);
