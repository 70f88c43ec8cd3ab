-- Chat.queuedMessages: the queue in FIFO order; ids as text (bigint ids would lose precision as JSON numbers).
COALESCE((SELECT jsonb_agg(to_jsonb(q) || jsonb_build_object('id', q.id::text) ORDER BY q.id)
          FROM chat_queued_messages q WHERE q.chat_id = c.id), '[]') AS queued
