-- One keyset page of chats with each chat's model config (and the filter's total when asked) in one statement.
SELECT c.*, (extract(epoch FROM c.updated_at) * 1000000)::bigint::text AS updated_us,
       to_jsonb(mc) AS model_config,
       ${countSql:raw} AS total_count
FROM chats c
JOIN chat_model_configs mc ON mc.id = c.last_model_config_id
WHERE ${filter:raw} AND ${keyset:raw}
ORDER BY ${order:raw}
LIMIT ${limit}
