-- Number of chats matching a list filter (totalCount).
SELECT count(*)::int AS n FROM chats c WHERE ${filter:raw}
