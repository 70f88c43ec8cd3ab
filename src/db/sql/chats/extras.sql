-- Dashboard data for a batch of chats in one round trip, only the parts the operation selected:
-- The columns placeholder is the comma-joined select list from chats/extras/<part>.sql.
SELECT c.id, ${columns:raw}
FROM chats c
WHERE c.id = ANY(${ids}::uuid[])
