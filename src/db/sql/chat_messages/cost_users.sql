-- Admin rollup: spend per user in [start, end), optionally filtered by a username/name ILIKE
-- pattern, one keyset page in (cost DESC, username) order plus the filtered total, in one
-- statement. Whole UTC days come from the per-chat daily rollup (migration 0007), the partial
-- days at either edge from assistant messages. Grouping sets give each user's totals and one row
-- per (user, root chat) in one hashed pass; counting those rows is chatCount.
WITH b AS (${range:raw}),
spend AS (
  SELECT r.owner_id, r.root_chat_id, r.message_count, r.priced_count, r.unpriced_count, r.cost, r.input_tokens, r.output_tokens,
         r.cache_read_tokens, r.cache_creation_tokens, r.runtime_ms
  FROM b JOIN chat_cost_daily_chats r ON r.day >= b.lo AND r.day < b.hi
  WHERE r.message_count > 0
  UNION ALL
  SELECT c.owner_id, COALESCE(c.root_chat_id, c.id), ${row:raw}
  FROM b
  CROSS JOIN LATERAL (VALUES (b.s, b.lo), (b.hi, b.e)) AS part(a, z)
  JOIN chat_messages m ON m.role = 'assistant' AND m.created_at >= part.a AND m.created_at < part.z
  JOIN chats c ON c.id = m.chat_id
  WHERE part.a < part.z
),
g AS (
  SELECT r.owner_id,
         GROUPING(r.root_chat_id) = 1 AS per_user,
         COALESCE(sum(r.cost), 0) AS cost,
         ${totals:raw}
  FROM spend r
  JOIN users u ON u.id = r.owner_id
  -- The pattern arrives with % _ \ escaped by backslash, LIKE's default escape character.
  WHERE ${pattern}::text IS NULL OR u.username ILIKE ${pattern} OR u.name ILIKE ${pattern}
  GROUP BY GROUPING SETS ((r.owner_id), (r.owner_id, r.root_chat_id))
), per_user AS (
  SELECT g.*, roots.chat_count
  FROM g
  JOIN (SELECT owner_id, count(*)::int AS chat_count FROM g WHERE NOT per_user GROUP BY owner_id) roots USING (owner_id)
  WHERE g.per_user
), page AS (
  SELECT p.*, u.username, to_jsonb(u) AS "user"
  FROM per_user p
  JOIN users u ON u.id = p.owner_id
  WHERE ${afterCost}::numeric IS NULL
     OR p.cost < ${afterCost}::numeric
     OR (p.cost = ${afterCost}::numeric AND u.username > ${afterUsername}::text)
  ORDER BY p.cost DESC, u.username
  LIMIT ${limit}
)
-- The LEFT JOIN keeps the total when the page is empty (a cursor past the end).
SELECT t.total_count, page.*
FROM (SELECT count(*)::int AS total_count FROM per_user) t
LEFT JOIN page ON true
ORDER BY page.cost DESC, page.username
