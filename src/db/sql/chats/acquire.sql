-- Claims up to ${limit} pending live chats for a worker, oldest-updated first; SKIP LOCKED gives racing workers disjoint sets.
WITH picked AS (
  SELECT c.id FROM chats c
  WHERE c.status = 'pending' AND NOT c.archived
  ORDER BY c.updated_at, c.id
  LIMIT ${limit}
  FOR UPDATE SKIP LOCKED
)
UPDATE chats c
SET status = 'running', worker_id = ${workerId}, started_at = now(), heartbeat_at = now(), last_error = NULL, updated_at = now()
FROM picked
WHERE c.id = picked.id
RETURNING c.*, (extract(epoch FROM c.updated_at) * 1000000)::bigint::text AS updated_us
