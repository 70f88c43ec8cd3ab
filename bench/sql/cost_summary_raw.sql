-- The per-message statement (every assistant message read from chat_messages) that cost analytics ran before the daily rollups: bench/costs.ts times it as the baseline, test/cost-rollups.test.ts uses it as the oracle.
-- One user's spend in [start, end): the totals, one row per model and one per root chat (children
-- rolled up), all from a single scan of the user's assistant messages via grouping sets.
WITH g AS (
  SELECT CASE GROUPING(m.model_config_id, COALESCE(c.root_chat_id, c.id)) WHEN 3 THEN 'total' WHEN 1 THEN 'model' ELSE 'chat' END AS section,
         m.model_config_id,
         COALESCE(c.root_chat_id, c.id) AS root_chat_id,
         COALESCE(sum(m.total_cost_micros), 0) AS cost,
         ${totals}
  FROM chats c
  JOIN chat_messages m ON m.chat_id = c.id AND m.role = 'assistant'
  WHERE c.owner_id = ${userId} AND m.created_at >= ${start}::timestamptz AND m.created_at < ${end}::timestamptz
  GROUP BY GROUPING SETS ((), (m.model_config_id), (COALESCE(c.root_chat_id, c.id)))
)
SELECT g.*, mc.display_name, mc.provider, mc.model, rc.title AS chat_title
FROM g
LEFT JOIN chat_model_configs mc ON g.section = 'model' AND mc.id = g.model_config_id
LEFT JOIN chats rc ON g.section = 'chat' AND rc.id = g.root_chat_id
-- Within a section: cost descending; ties by name (the no-model row last), then id.
ORDER BY g.section, g.cost DESC, mc.display_name, rc.title, g.model_config_id, g.root_chat_id
