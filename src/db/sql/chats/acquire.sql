-- Claims up to ${limit} pending live chats for a worker, oldest-updated first; SKIP LOCKED gives racing workers disjoint sets.
WITH picked AS (
  SELECT c.id, c.updated_at AS queued_at FROM chats c
  WHERE c.status = 'pending' AND NOT c.archived
  ORDER BY c.updated_at, c.id
  LIMIT ${limit}
  FOR UPDATE SKIP LOCKED
), claimed AS (
  UPDATE chats c
  SET status = 'running', worker_id = ${workerId}, started_at = now(), heartbeat_at = now(), last_error = NULL, updated_at = now()
  FROM picked
  WHERE c.id = picked.id
  RETURNING c.*, (extract(epoch FROM c.updated_at) * 1000000)::bigint::text AS updated_us, picked.queued_at
)
-- RETURNING has no order: hand them back in claim order.
SELECT * FROM claimed ORDER BY queued_at, id
