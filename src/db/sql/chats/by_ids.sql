-- Chat rows for a batch of ids, in no particular order (the chat loader reorders and applies visibility).
SELECT c.*, (extract(epoch FROM c.updated_at) * 1000000)::bigint::text AS updated_us
FROM chats c WHERE c.id = ANY(${ids}::uuid[])
