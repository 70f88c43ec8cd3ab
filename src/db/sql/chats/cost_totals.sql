-- Spend of each chat plus its children: assistant messages, soft-deleted (edited-away) ones included.
SELECT k.id,
  COALESCE(sum(m.total_cost_micros), 0)::text AS total_cost_micros,
  count(m.id) FILTER (WHERE m.total_cost_micros IS NOT NULL)::int AS priced_message_count,
  count(m.id) FILTER (WHERE m.total_cost_micros IS NULL AND (COALESCE(m.input_tokens, 0) + COALESCE(m.output_tokens, 0)
                      + COALESCE(m.cache_read_tokens, 0) + COALESCE(m.cache_creation_tokens, 0)) > 0)::int AS unpriced_message_count,
  COALESCE(sum(m.input_tokens), 0)::text AS total_input_tokens,
  COALESCE(sum(m.output_tokens), 0)::text AS total_output_tokens,
  COALESCE(sum(m.cache_read_tokens), 0)::text AS total_cache_read_tokens,
  COALESCE(sum(m.cache_creation_tokens), 0)::text AS total_cache_creation_tokens,
  COALESCE(sum(m.runtime_ms), 0)::text AS total_runtime_ms,
  count(m.id)::int AS message_count
FROM unnest(${ids}::uuid[]) AS k(id)
LEFT JOIN chats c ON c.id = k.id OR c.parent_chat_id = k.id
LEFT JOIN chat_messages m ON m.chat_id = c.id AND m.role = 'assistant'
GROUP BY k.id
