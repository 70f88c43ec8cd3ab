import type { CostTotalsRow } from '../../db/repos/chats.js';
import { cost } from '../../resolvers/chats.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';

/** Spend totals over assistant messages (edited-away ones included: they were paid for). */
export const ChatCostTotals = builder.objectRef<CostTotalsRow>('ChatCostTotals').implement({
  fields: (t) => ({
    totalCostMicros: t.field({ type: 'BigInt', description: 'Sum of priced messages, micro-USD.', resolve: (c) => c.total_cost_micros }),
    pricedMessageCount: t.exposeInt('priced_message_count'),
    unpricedMessageCount: t.exposeInt('unpriced_message_count', { description: 'Messages with token usage but no price.' }),
    totalInputTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_input_tokens }),
    totalOutputTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_output_tokens }),
    totalCacheReadTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_cache_read_tokens }),
    totalCacheCreationTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_cache_creation_tokens }),
    totalRuntimeMs: t.field({ type: 'BigInt', resolve: (c) => c.total_runtime_ms }),
  }),
});

builder.objectField(Chat, 'cost', (t) =>
  t.field({ type: ChatCostTotals, description: 'Spend of this chat and its sub-agents.', resolve: (chat, _args, ctx) => cost(chat, ctx) }),
);
