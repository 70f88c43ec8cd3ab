-- Message-insert hot path: insert messages and move chats.last_model_config_id in one statement, writing the chats row only when the model changed.
WITH ins AS (
  INSERT INTO chat_messages (chat_id, role, visibility, content, content_version, model_config_id, created_by,
                             input_tokens, output_tokens, total_tokens, reasoning_tokens, cache_creation_tokens,
                             cache_read_tokens, context_limit, total_cost_micros, runtime_ms, compressed)
  SELECT ${chatId}, m.role, m.visibility, m.content, 1, m.model_config_id, m.created_by,
         m.input_tokens, m.output_tokens, m.total_tokens, m.reasoning_tokens, m.cache_creation_tokens,
         m.cache_read_tokens, m.context_limit, m.total_cost_micros, m.runtime_ms, m.compressed
  FROM jsonb_to_recordset(${messages}::jsonb) AS m(
    role chat_message_role, visibility chat_message_visibility, content jsonb, model_config_id uuid, created_by uuid,
    input_tokens bigint, output_tokens bigint, total_tokens bigint, reasoning_tokens bigint, cache_creation_tokens bigint,
    cache_read_tokens bigint, context_limit bigint, total_cost_micros bigint, runtime_ms bigint, compressed boolean, ord bigint)
  ORDER BY m.ord
  RETURNING *
), moved AS (
  UPDATE chats SET last_model_config_id = ${modelConfigId}::uuid, updated_at = now()
  WHERE id = ${chatId} AND ${modelConfigId}::uuid IS NOT NULL AND last_model_config_id IS DISTINCT FROM ${modelConfigId}::uuid
  RETURNING id
)
SELECT ins.*, (SELECT count(*) FROM moved)::int AS chat_model_moved FROM ins ORDER BY ins.id
