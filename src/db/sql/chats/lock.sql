-- Locks one chat row for the rest of the transaction (lock the chat row first) and returns it.
SELECT c.*, (extract(epoch FROM c.updated_at) * 1000000)::bigint::text AS updated_us
FROM chats c WHERE c.id = ${id} FOR UPDATE
