import type { ChatSummary } from '../liveMerge.js';

const STATUS: Record<ChatSummary['status'], { icon: string; label: string }> = {
  WAITING: { icon: '○', label: 'Waiting' },
  PENDING: { icon: '◔', label: 'Pending' },
  RUNNING: { icon: '◐', label: 'Running' },
  PAUSED: { icon: '⏸', label: 'Paused' },
  COMPLETED: { icon: '✓', label: 'Completed' },
  ERROR: { icon: '⚠', label: 'Error' },
  REQUIRES_ACTION: { icon: '!', label: 'Needs you' },
};

export function StatusIcon({ status }: { status: ChatSummary['status'] }) {
  const { icon, label } = STATUS[status];
  return <span className={`status status-${status.toLowerCase()}`} title={label} aria-label={label} data-status={status}>{icon}</span>;
}

export function statusLabel(status: ChatSummary['status']): string {
  return STATUS[status].label;
}

type Diff = Pick<NonNullable<ChatSummary['diffStatus']>, 'pullRequestState' | 'pullRequestDraft'>;

/** open, draft, merged or closed: the pull request's state as one word. */
export function prState(diff: Diff): 'open' | 'draft' | 'merged' | 'closed' | null {
  if (!diff.pullRequestState) return null;
  if (diff.pullRequestState === 'OPEN') return diff.pullRequestDraft ? 'draft' : 'open';
  return diff.pullRequestState === 'MERGED' ? 'merged' : 'closed';
}

const PR_ICON = { open: '⇡', draft: '◌', merged: '⤳', closed: '✕' } as const;

export function PrIcon({ diff }: { diff: Diff }) {
  const state = prState(diff);
  if (!state) return null;
  return <span className={`pr pr-${state}`} title={`PR ${state}`} aria-label={`PR ${state}`} data-pr={state}>{PR_ICON[state]}</span>;
}
