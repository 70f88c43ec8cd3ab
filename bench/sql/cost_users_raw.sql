-- The per-message statement (every assistant message read from chat_messages) that cost analytics ran before the daily rollups: bench/costs.ts times it as the baseline, test/cost-rollups.test.ts uses it as the oracle.
-- Admin rollup: spend per user in [start, end), optionally filtered by a username/name ILIKE
-- pattern, one keyset page in (cost DESC, username) order plus the filtered total, in one
-- statement. Grouping sets give each user's totals and one row per (user, root chat) in one
-- hashed pass; counting those rows is chatCount (count(DISTINCT) would sort every message).
WITH g AS (
  SELECT c.owner_id,
         GROUPING(COALESCE(c.root_chat_id, c.id)) = 1 AS per_user,
         COALESCE(sum(m.total_cost_micros), 0) AS cost,
         ${totals}
  FROM chat_messages m
  JOIN chats c ON c.id = m.chat_id
  JOIN users u ON u.id = c.owner_id
  WHERE m.role = 'assistant' AND m.created_at >= ${start}::timestamptz AND m.created_at < ${end}::timestamptz
    -- The pattern arrives with % _ \ escaped by backslash, LIKE's default escape character.
    AND (${pattern}::text IS NULL OR u.username ILIKE ${pattern} OR u.name ILIKE ${pattern})
  GROUP BY GROUPING SETS ((c.owner_id), (c.owner_id, COALESCE(c.root_chat_id, c.id)))
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
