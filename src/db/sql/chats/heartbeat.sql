-- Heartbeat of the chats a worker is running; updated_at stays put, so the chat list does not reorder.
UPDATE chats SET heartbeat_at = now()
WHERE id = ANY(${ids}::uuid[]) AND status = 'running' AND worker_id = ${workerId}
RETURNING id
