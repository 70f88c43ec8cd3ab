-- One user's spend in [start, end): the totals, one row per model and one per root chat (children
-- rolled up). Whole UTC days come from the daily rollups (migration 0007), the partial days at
-- either edge from the user's assistant messages, so the answer is exact at any range.
WITH b AS (${range:raw}),
edge AS (
  SELECT m.model_config_id, COALESCE(c.root_chat_id, c.id) AS root_chat_id, ${row:raw}
  FROM b
  CROSS JOIN LATERAL (VALUES (b.s, b.lo), (b.hi, b.e)) AS part(a, z)
  JOIN chats c ON c.owner_id = ${userId}
  JOIN chat_messages m ON m.chat_id = c.id AND m.role = 'assistant' AND m.created_at >= part.a AND m.created_at < part.z
  WHERE part.a < part.z
),
by_model AS (
  SELECT r.model_config_id, r.message_count, r.priced_count, r.unpriced_count, r.cost, r.input_tokens, r.output_tokens,
         r.cache_read_tokens, r.cache_creation_tokens, r.runtime_ms
  FROM b JOIN chat_cost_daily_models r ON r.owner_id = ${userId} AND r.day >= b.lo AND r.day < b.hi
  WHERE r.message_count > 0
  UNION ALL
  SELECT model_config_id, message_count, priced_count, unpriced_count, cost, input_tokens, output_tokens,
         cache_read_tokens, cache_creation_tokens, runtime_ms
  FROM edge
),
by_chat AS (
  SELECT r.root_chat_id, r.message_count, r.priced_count, r.unpriced_count, r.cost, r.input_tokens, r.output_tokens,
         r.cache_read_tokens, r.cache_creation_tokens, r.runtime_ms
  FROM b JOIN chat_cost_daily_chats r ON r.owner_id = ${userId} AND r.day >= b.lo AND r.day < b.hi
  WHERE r.message_count > 0
  UNION ALL
  SELECT root_chat_id, message_count, priced_count, unpriced_count, cost, input_tokens, output_tokens,
         cache_read_tokens, cache_creation_tokens, runtime_ms
  FROM edge
),
g AS (
  SELECT 'total' AS section, NULL::uuid AS model_config_id, NULL::uuid AS root_chat_id, COALESCE(sum(r.cost), 0) AS cost, ${totals:raw}
  FROM by_model r
  UNION ALL
  SELECT 'model', r.model_config_id, NULL, COALESCE(sum(r.cost), 0), ${totals:raw} FROM by_model r GROUP BY r.model_config_id
  UNION ALL
  SELECT 'chat', NULL, r.root_chat_id, COALESCE(sum(r.cost), 0), ${totals:raw} FROM by_chat r GROUP BY r.root_chat_id
)
SELECT g.*, mc.display_name, mc.provider, mc.model, rc.title AS chat_title
FROM g
LEFT JOIN chat_model_configs mc ON g.section = 'model' AND mc.id = g.model_config_id
LEFT JOIN chats rc ON g.section = 'chat' AND rc.id = g.root_chat_id
-- Within a section: cost descending; ties by name (the no-model row last), then id.
ORDER BY g.section, g.cost DESC, mc.display_name, rc.title, g.model_config_id, g.root_chat_id
