-- For each chat: its last live assistant message and the live tool messages after it (whose
-- tool-result parts answer that message's tool calls). Content is parsed by the caller.
SELECT k.id AS chat_id, a.id::text AS message_id, a.content, a.content_version, a.visibility,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('content', t.content, 'version', t.content_version) ORDER BY t.id)
                 FROM chat_messages t
                 WHERE t.chat_id = k.id AND t.id > a.id AND t.role = 'tool' AND NOT t.deleted), '[]') AS answers
FROM unnest(${ids}::uuid[]) AS k(id)
JOIN LATERAL (
  SELECT m.id, m.content, m.content_version, m.visibility
  FROM chat_messages m
  WHERE m.chat_id = k.id AND m.role = 'assistant' AND NOT m.deleted
  ORDER BY m.id DESC
  LIMIT 1
) a ON true
