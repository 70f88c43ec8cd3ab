-- Admin rollup: spend per user in [start, end), optionally filtered by a username/name ILIKE
-- pattern, one keyset page in (cost DESC, username) order plus the filtered total, in one
-- statement. The LEFT JOIN keeps the total when the page is empty (a cursor past the end).
WITH per_user AS (
  SELECT c.owner_id,
         COALESCE(sum(m.total_cost_micros), 0) AS cost,
         count(DISTINCT COALESCE(c.root_chat_id, c.id))::int AS chat_count,
         ${totals}
  FROM chat_messages m
  JOIN chats c ON c.id = m.chat_id
  JOIN users u ON u.id = c.owner_id
  WHERE m.role = 'assistant' AND m.created_at >= ${start}::timestamptz AND m.created_at < ${end}::timestamptz
    -- The pattern arrives with % _ \ escaped by backslash, LIKE's default escape character.
    AND (${pattern}::text IS NULL OR u.username ILIKE ${pattern} OR u.name ILIKE ${pattern})
  GROUP BY c.owner_id
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
SELECT t.total_count, page.*
FROM (SELECT count(*)::int AS total_count FROM per_user) t
LEFT JOIN page ON true
ORDER BY page.cost DESC, page.username
