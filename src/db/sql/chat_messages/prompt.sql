-- Prompt view (docs/worker-protocol.md) of a batch of chats in one statement: uncompressed system messages, the newest compressed summary, and every uncompressed message after it.
WITH summary AS (
  SELECT k.chat_id,
         (SELECT max(s.id) FROM chat_messages s
          WHERE s.chat_id = k.chat_id AND s.compressed AND s.role = 'user' AND s.visibility <> 'user' AND NOT s.deleted) AS id
  FROM unnest(${chatIds}::uuid[]) AS k(chat_id)
)
SELECT m.* FROM summary s
JOIN chat_messages m ON m.chat_id = s.chat_id
WHERE NOT m.deleted AND m.visibility <> 'user'
  AND ((m.role = 'system' AND NOT m.compressed)
       OR m.id = s.id
       OR (NOT m.compressed AND m.id > COALESCE(s.id, 0)))
ORDER BY m.chat_id, m.id
