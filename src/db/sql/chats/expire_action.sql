-- Chats left in requires_action (no change since) for longer than ${seconds} go to error with ${lastError}; SKIP LOCKED never waits on a live writer.
WITH expired AS (
  SELECT c.id FROM chats c
  WHERE c.status = 'requires_action' AND c.updated_at < now() - make_interval(secs => ${seconds})
  FOR UPDATE SKIP LOCKED
)
UPDATE chats c
SET status = 'error', last_error = ${lastError}, updated_at = now()
FROM expired
WHERE c.id = expired.id
RETURNING c.id
