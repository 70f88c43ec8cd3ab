-- Depth of a chat (0 = a root) by walking up parent_chat_id, one primary-key lookup per level:
-- stops at a repeated id (a cycle) or after ${limit} levels (too_deep: the walk was cut short).
WITH RECURSIVE up AS (
  SELECT c.id, c.parent_chat_id, 0 AS depth, ARRAY[c.id] AS path, false AS cycle
  FROM chats c WHERE c.id = ${id}
  UNION ALL
  SELECT p.id, p.parent_chat_id, up.depth + 1, up.path || p.id, p.id = ANY (up.path)
  FROM up JOIN chats p ON p.id = up.parent_chat_id
  WHERE NOT up.cycle AND up.depth < ${limit}
)
SELECT max(depth)::int AS depth,
       bool_or(cycle) AS cycle,
       bool_or(depth = ${limit} AND parent_chat_id IS NOT NULL AND NOT cycle) AS too_deep
FROM up
