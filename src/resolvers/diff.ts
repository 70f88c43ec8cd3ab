import type { Context } from '../context.js';
import type { ChatRow, DiffStatusRow } from '../db/models.js';
import type { DiffStatusFields } from '../db/repos/diffStatuses.js';
import { NotFoundError, ValidationError } from './errors.js';
import { remember } from './userMutations.js';

/** A diff status as upsertChatDiffStatus receives it: every PR field, absent optional ones meaning "none". */
export interface DiffStatusInput {
  url?: string | null;
  pullRequestState?: 'open' | 'closed' | 'merged' | null;
  pullRequestTitle: string;
  pullRequestDraft: boolean;
  changesRequested: boolean;
  additions: number;
  deletions: number;
  changedFiles: number;
  authorLogin?: string | null;
  authorAvatarUrl?: string | null;
  baseBranch?: string | null;
  headBranch?: string | null;
  prNumber?: number | null;
  commits?: number | null;
  approved?: boolean | null;
  reviewerCount?: number | null;
  refreshedAt?: Date | null;
  staleAt?: Date | null;
}

const MAX_URL_LENGTH = 2048;
const MAX_TEXT_LENGTH = 1000;

function url(value: string | null | undefined, field: string): string | null {
  if (value == null) return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(value);
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || value.length > MAX_URL_LENGTH) {
    throw new ValidationError(`${field} must be an http(s) URL of at most ${MAX_URL_LENGTH} characters`, field);
  }
  return value;
}

function count(value: number | null | undefined, field: string, min = 0): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < min) throw new ValidationError(`${field} must be an integer >= ${min}`, field);
  return value;
}

function text(value: string | null | undefined, field: string): string | null {
  if (value == null) return null;
  if (value.length > MAX_TEXT_LENGTH) throw new ValidationError(`${field} is limited to ${MAX_TEXT_LENGTH} characters`, field);
  return value;
}

/** Validates every field: counts are non-negative integers, URLs are http(s), texts are bounded. */
function diffFields(d: DiffStatusInput): DiffStatusFields {
  return {
    url: url(d.url, 'url'),
    pull_request_state: d.pullRequestState ?? null,
    pull_request_title: text(d.pullRequestTitle, 'pullRequestTitle')!,
    pull_request_draft: d.pullRequestDraft,
    changes_requested: d.changesRequested,
    additions: count(d.additions, 'additions')!,
    deletions: count(d.deletions, 'deletions')!,
    changed_files: count(d.changedFiles, 'changedFiles')!,
    author_login: text(d.authorLogin, 'authorLogin'),
    author_avatar_url: url(d.authorAvatarUrl, 'authorAvatarUrl'),
    base_branch: text(d.baseBranch, 'baseBranch'),
    head_branch: text(d.headBranch, 'headBranch'),
    pr_number: count(d.prNumber, 'prNumber', 1),
    commits: count(d.commits, 'commits'),
    approved: d.approved ?? null,
    reviewer_count: count(d.reviewerCount, 'reviewerCount'),
    refreshed_at: d.refreshedAt ?? null,
    stale_at: d.staleAt ?? null,
  };
}

/**
 * Diff status rule: writes the chat's whole diff status (every field; an absent optional field is
 * stored as null). Worker scope, any chat: the PR poller is not necessarily the run's worker.
 */
export async function upsertChatDiffStatus(input: DiffStatusInput & { chatId: string }, ctx: Context): Promise<{ chat: ChatRow; diffStatus: DiffStatusRow }> {
  const fields = diffFields(input);
  const result = await ctx.db.tx('upsertChatDiffStatus', async (t) => {
    const chat = await t.chats.lock(input.chatId);
    if (!chat) throw new NotFoundError('Chat not found', input.chatId);
    return { chat, diffStatus: await t.diffStatuses.upsert(chat.id, fields) };
  });
  remember(ctx, result.chat);
  return result;
}
