-- Prompt view (rule 13): uncompressed system messages, the newest compressed summary, and every uncompressed message after it.
WITH summary AS (
  SELECT max(id) AS id FROM chat_messages
  WHERE chat_id = ${chatId} AND compressed AND role = 'user' AND visibility <> 'user' AND NOT deleted
)
SELECT m.* FROM chat_messages m, summary s
WHERE m.chat_id = ${chatId} AND NOT m.deleted AND m.visibility <> 'user'
  AND ((m.role = 'system' AND NOT m.compressed)
       OR m.id = s.id
       OR (NOT m.compressed AND m.id > COALESCE(s.id, 0)))
ORDER BY m.id
