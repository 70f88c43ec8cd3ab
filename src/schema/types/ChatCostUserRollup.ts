import type { UserCostRow } from '../../db/repos/costs.js';
import { costUsers, MAX_RANGE_DAYS } from '../../resolvers/costs.js';
import { builder } from '../builder.js';
import { ChatCostTotals } from './ChatCostTotals.js';
import { User } from './User.js';

/** One user's line of the admin cost rollup. */
export const ChatCostUserRollup = builder.objectRef<UserCostRow>('ChatCostUserRollup').implement({
  description: "One user's spend in the admin rollup.",
  fields: (t) => ({
    user: t.field({ type: User, resolve: (row) => row.user }),
    totals: t.field({ type: ChatCostTotals, resolve: (row) => row }),
    messageCount: t.exposeInt('message_count', { description: 'Assistant messages counted (priced, unpriced and usage-free).' }),
    chatCount: t.exposeInt('chat_count', { description: 'Distinct root chats with spend in the range (children count with their root).' }),
  }),
});

/**
 * Built by hand rather than with t.connection: the contract pages forward only
 * (first/after), and t.connection would add last/before.
 */
export const ChatCostUserConnection = builder.connectionObject(
  {
    type: ChatCostUserRollup,
    name: 'ChatCostUserConnection',
    fields: (c) => ({
      totalCount: c.int({
        description: 'Users matching the filter with spend in the range (all pages).',
        resolve: (connection) => (connection as unknown as { totalCount: number }).totalCount,
      }),
    }),
  },
  { name: 'ChatCostUserEdge' },
);

builder.queryField('costUsers', (t) =>
  t.field({
    type: ChatCostUserConnection,
    authScopes: { admin: true },
    description: `Admins: spend per user with assistant messages in [startDate, endDate) (default the last 30 days, at most ${MAX_RANGE_DAYS}), cost descending then username.`,
    args: {
      startDate: t.arg({ type: 'DateTime', description: 'Inclusive; default endDate minus 30 days.' }),
      endDate: t.arg({ type: 'DateTime', description: 'Exclusive; default now.' }),
      username: t.arg.string({ description: 'Case-insensitive substring of the username or name, matched literally.' }),
      first: t.arg.int({ description: 'Page size, 1..100 (default 50).' }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: (_root, args, ctx) => costUsers(args, ctx),
  }),
);
