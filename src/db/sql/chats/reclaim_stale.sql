-- Stale runs rule: running chats whose heartbeat is older than ${staleSeconds} go back to pending (claim dropped); SKIP LOCKED never waits on a live writer.
WITH stale AS (
  SELECT c.id, c.worker_id FROM chats c
  WHERE c.status = 'running' AND (c.heartbeat_at IS NULL OR c.heartbeat_at < now() - make_interval(secs => ${staleSeconds}))
  FOR UPDATE SKIP LOCKED
)
UPDATE chats c
SET status = 'pending', worker_id = NULL, started_at = NULL, heartbeat_at = NULL, last_error = NULL, updated_at = now()
FROM stale
WHERE c.id = stale.id
RETURNING c.*, (extract(epoch FROM c.updated_at) * 1000000)::bigint::text AS updated_us, stale.worker_id AS previous_worker_id
