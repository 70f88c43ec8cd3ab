-- Spend of each chat plus every sub-agent below it, at any depth: the parent chain walked down
-- (UNION drops a revisit, so even a corrupt cycle ends and nothing is counted twice) plus, for a
-- root, every chat naming it as root_chat_id, so a root's total is its costSummary.byChat line.
-- Assistant messages, soft-deleted (edited-away) ones included.
WITH RECURSIVE tree(key, chat_id) AS (
  SELECT k.id, k.id FROM unnest(${ids}::uuid[]) AS k(id)
  UNION
  SELECT c.root_chat_id, c.id FROM chats c WHERE c.root_chat_id = ANY(${ids}::uuid[])
  UNION
  SELECT t.key, c.id FROM tree t JOIN chats c ON c.parent_chat_id = t.chat_id
)
SELECT t.key AS id, ${totals}
FROM tree t
LEFT JOIN chat_messages m ON m.chat_id = t.chat_id AND m.role = 'assistant'
GROUP BY t.key
