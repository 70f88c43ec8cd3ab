-- Select-list fragment (not a statement): one assistant message aliased `m` as a spend row, the
-- columns of the daily rollups (migration 0007), counted by the same rule (chat_message_unpriced).
1::bigint AS message_count,
(m.total_cost_micros IS NOT NULL)::int::bigint AS priced_count,
chat_message_unpriced(m.total_cost_micros, m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_creation_tokens)::int::bigint AS unpriced_count,
COALESCE(m.total_cost_micros, 0)::numeric AS cost,
COALESCE(m.input_tokens, 0)::numeric AS input_tokens,
COALESCE(m.output_tokens, 0)::numeric AS output_tokens,
COALESCE(m.cache_read_tokens, 0)::numeric AS cache_read_tokens,
COALESCE(m.cache_creation_tokens, 0)::numeric AS cache_creation_tokens,
COALESCE(m.runtime_ms, 0)::numeric AS runtime_ms
