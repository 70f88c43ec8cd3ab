-- Dashboard data for a batch of chats in one round trip: diff status, queue, children, last turn, unread.
-- The last turn and the unread flag only look at messages users can see (no model-only content).
-- Ids and timestamps inside jsonb are texts (bigint ids would lose precision as JSON numbers).
SELECT c.id,
  (SELECT to_jsonb(d) FROM chat_diff_statuses d WHERE d.chat_id = c.id) AS diff_status,
  COALESCE((SELECT jsonb_agg(to_jsonb(q) || jsonb_build_object('id', q.id::text) ORDER BY q.id)
            FROM chat_queued_messages q WHERE q.chat_id = c.id), '[]') AS queued,
  COALESCE((SELECT jsonb_agg(to_jsonb(ch) || jsonb_build_object(
                     'updated_us', ((extract(epoch FROM ch.updated_at) * 1000000)::bigint)::text,
                     'last_read_message_id', ch.last_read_message_id::text)
                   ORDER BY ch.created_at, ch.id)
            FROM chats ch WHERE ch.parent_chat_id = c.id), '[]') AS children,
  -- Version-1 turns send only the head of their text parts (the summary needs 200 characters;
  -- whole transcripts would dominate the page's bytes); other versions go to the parser whole.
  CASE WHEN la.version1 THEN NULL ELSE la.content END AS last_assistant_content,
  CASE WHEN la.version1 THEN (SELECT left(string_agg(p->>'text', E'\n' ORDER BY o), 2000)
                              FROM jsonb_array_elements(la.content) WITH ORDINALITY AS e(p, o)
                              WHERE p->>'type' = 'text') END AS last_assistant_text,
  la.content_version AS last_assistant_version,
  EXISTS (SELECT 1 FROM chat_messages u
          WHERE u.chat_id = c.id AND u.role = 'assistant' AND NOT u.deleted AND u.visibility <> 'model'
            AND u.id > COALESCE(c.last_read_message_id, 0)) AS has_unread
FROM chats c
LEFT JOIN LATERAL (
  SELECT m.content, m.content_version, (m.content_version = 1 AND jsonb_typeof(m.content) = 'array') AS version1
  FROM chat_messages m
  WHERE m.chat_id = c.id AND m.role = 'assistant' AND NOT m.deleted AND m.visibility <> 'model'
  ORDER BY m.id DESC LIMIT 1
) la ON true
WHERE c.id = ANY(${ids}::uuid[])
