import { costSummary, MAX_RANGE_DAYS, type CostSummary } from '../../resolvers/costs.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { ChatCostChatBreakdown } from './ChatCostChatBreakdown.js';
import { ChatCostModelBreakdown } from './ChatCostModelBreakdown.js';
import { ChatCostTotals, costTotalsFields } from './ChatCostTotals.js';
import { User } from './User.js';

/** A user's spend in a half-open range: totals (flattened and as `totals`) and breakdowns. */
export const ChatCostSummary = builder.objectRef<CostSummary>('ChatCostSummary').implement({
  description: 'Spend of one user over assistant messages created in [startDate, endDate), edited-away ones included.',
  fields: (t) => ({
    startDate: t.field({ type: 'DateTime', description: 'Inclusive.', resolve: (s) => s.start }),
    endDate: t.field({ type: 'DateTime', description: 'Exclusive.', resolve: (s) => s.end }),
    user: t.field({ type: User, resolve: (s) => s.user }),
    ...costTotalsFields(t),
    messageCount: t.exposeInt('message_count', { description: 'Assistant messages counted (priced, unpriced and usage-free).' }),
    totals: t.field({ type: ChatCostTotals, description: 'The same totals as one object.', resolve: (s) => s.totals }),
    byModel: t.field({ type: [ChatCostModelBreakdown], description: 'Per model config, cost descending.', resolve: (s) => s.byModel }),
    byChat: t.field({ type: [ChatCostChatBreakdown], description: 'Per root chat (children rolled up), cost descending.', resolve: (s) => s.byChat }),
  }),
});

builder.queryField('costSummary', (t) =>
  t.field({
    type: ChatCostSummary,
    description: `Your spend (admins: any user's) in [startDate, endDate); default the last 30 days, at most ${MAX_RANGE_DAYS} days.`,
    args: {
      startDate: t.arg({ type: 'DateTime', description: 'Inclusive; default endDate minus 30 days.' }),
      endDate: t.arg({ type: 'DateTime', description: 'Exclusive; default now.' }),
      userId: t.arg.id({ description: "Another user's ID (admins only); default the viewer." }),
    },
    resolve: (_root, args, ctx) =>
      costSummary({ ...args, userId: args.userId == null ? null : decodeId(String(args.userId), 'User', 'userId') }, ctx),
  }),
);
