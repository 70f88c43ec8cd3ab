import type { CostTotalsRow } from '../../db/models.js';
import { cost } from '../../resolvers/chats.js';
import { builder } from '../builder.js';
import { Chat } from './Chat.js';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/**
 * The totals fields, shared by ChatCostTotals and ChatCostSummary (which the API contract gives
 * the same fields flattened), so both describe and serialise them identically.
 */
export function costTotalsFields<T extends CostTotalsRow>(t: PothosSchemaTypes.ObjectFieldBuilder<Types, T>) {
  return {
    totalCostMicros: t.field({ type: 'BigInt', description: 'Sum of priced messages, micro-USD.', resolve: (c) => c.total_cost_micros }),
    pricedMessageCount: t.int({ description: 'Messages with a stored cost (0 = free counts as priced).', resolve: (c) => c.priced_message_count }),
    unpricedMessageCount: t.int({ description: 'Messages with token usage but no price.', resolve: (c) => c.unpriced_message_count }),
    totalInputTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_input_tokens }),
    totalOutputTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_output_tokens }),
    totalCacheReadTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_cache_read_tokens }),
    totalCacheCreationTokens: t.field({ type: 'BigInt', resolve: (c) => c.total_cache_creation_tokens }),
    totalRuntimeMs: t.field({ type: 'BigInt', resolve: (c) => c.total_runtime_ms }),
  };
}

/** Spend totals over assistant messages (edited-away ones included: they were paid for). */
export const ChatCostTotals = builder.objectRef<CostTotalsRow>('ChatCostTotals').implement({
  fields: (t) => costTotalsFields(t),
});

builder.objectField(Chat, 'cost', (t) =>
  t.field({ type: ChatCostTotals, description: 'Spend of this chat and its sub-agents.', resolve: (chat, _args, ctx) => cost(chat, ctx) }),
);
