-- Moves the read marker forward, never back (null message: the newest), leaving updated_at alone.
UPDATE chats SET last_read_message_id = GREATEST(last_read_message_id,
  COALESCE(${messageId}::bigint, (SELECT max(m.id) FROM chat_messages m WHERE m.chat_id = ${id})))
WHERE id = ${id}
RETURNING *, (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us
