-- An archived ancestor of a chat, walking up the parent chain (O(depth); UNION drops revisits, so a corrupt cycle ends), or no row.
WITH RECURSIVE up(id) AS (
  SELECT c.parent_chat_id FROM chats c WHERE c.id = ${id} AND c.parent_chat_id IS NOT NULL
  UNION
  SELECT c.parent_chat_id FROM up JOIN chats c ON c.id = up.id WHERE c.parent_chat_id IS NOT NULL
)
SELECT a.id FROM up JOIN chats a ON a.id = up.id WHERE a.archived LIMIT 1
