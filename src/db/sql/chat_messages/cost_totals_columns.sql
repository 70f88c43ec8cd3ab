-- Select-list fragment (not a statement): spend totals over assistant messages aliased `m`,
-- shared by every cost query so the cost rules (docs/costs.md) are written once. Priced = a cost was stored (0 is
-- free, still priced); unpriced = no cost but some token usage. Only columns of the covering
-- index chat_messages_chat_assistant_cost_idx are read (hence count(m.chat_id), not m.id), so
-- scans stay index-only; count is 0 for an outer-joined group without messages. Sums are
-- numeric: ::text keeps them exact for BigInt.
COALESCE(sum(m.total_cost_micros), 0)::text AS total_cost_micros,
count(m.chat_id) FILTER (WHERE m.total_cost_micros IS NOT NULL)::int AS priced_message_count,
count(m.chat_id) FILTER (WHERE m.total_cost_micros IS NULL AND (COALESCE(m.input_tokens, 0) + COALESCE(m.output_tokens, 0)
                    + COALESCE(m.cache_read_tokens, 0) + COALESCE(m.cache_creation_tokens, 0)) > 0)::int AS unpriced_message_count,
COALESCE(sum(m.input_tokens), 0)::text AS total_input_tokens,
COALESCE(sum(m.output_tokens), 0)::text AS total_output_tokens,
COALESCE(sum(m.cache_read_tokens), 0)::text AS total_cache_read_tokens,
COALESCE(sum(m.cache_creation_tokens), 0)::text AS total_cache_creation_tokens,
COALESCE(sum(m.runtime_ms), 0)::text AS total_runtime_ms,
count(m.chat_id)::int AS message_count
