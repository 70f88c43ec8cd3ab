import { builder } from '../builder.js';

/** State of the pull request a chat works on. */
export const PullRequestState = builder.enumType('PullRequestState', {
  values: { OPEN: { value: 'open' }, CLOSED: { value: 'closed' }, MERGED: { value: 'merged' } } as const,
});
