-- No stranded queue: earlier versions could leave a live chat idle (waiting or paused) with
-- queued messages that nothing would ever run. Each such chat now runs its oldest queued
-- message, exactly as the gateway does on every transition to rest: the message becomes a user
-- message with its stored model (falling back to the chat's last model, then the default, when
-- that config is gone or disabled) and the chat goes pending. Without any usable model config
-- the message stays queued and the chat goes to error, saying why.
WITH stranded AS (
  SELECT c.id AS chat_id, c.last_model_config_id, q.id AS queued_id, q.content, q.model_config_id, q.created_by
  FROM chats c
  CROSS JOIN LATERAL (SELECT * FROM chat_queued_messages q WHERE q.chat_id = c.id ORDER BY q.id LIMIT 1) q
  WHERE NOT c.archived AND c.status IN ('waiting', 'paused')
  FOR UPDATE OF c
), resolved AS (
  SELECT s.*, COALESCE(
    (SELECT m.id FROM chat_model_configs m WHERE m.id = s.model_config_id AND m.enabled AND NOT m.deleted),
    (SELECT m.id FROM chat_model_configs m WHERE m.id = s.last_model_config_id AND m.enabled AND NOT m.deleted),
    (SELECT m.id FROM chat_model_configs m WHERE m.is_default AND m.enabled AND NOT m.deleted)) AS model_id
  FROM stranded s
), promoted AS (
  INSERT INTO chat_messages (chat_id, role, visibility, content, content_version, model_config_id, created_by)
  SELECT r.chat_id, 'user', 'both', r.content, 1, r.model_id, r.created_by FROM resolved r WHERE r.model_id IS NOT NULL
  ORDER BY r.queued_id
  RETURNING chat_id
), dequeued AS (
  DELETE FROM chat_queued_messages q USING resolved r WHERE q.id = r.queued_id AND r.model_id IS NOT NULL
  RETURNING q.id
)
UPDATE chats c SET
  status = CASE WHEN r.model_id IS NULL THEN 'error'::chat_status ELSE 'pending'::chat_status END,
  last_error = CASE WHEN r.model_id IS NULL
    THEN 'The oldest queued message (' || r.queued_id || ') cannot start: no usable model config (its own, the chat''s and the default are deleted, disabled or unset)' END,
  last_model_config_id = COALESCE(r.model_id, c.last_model_config_id),
  worker_id = NULL, started_at = NULL, heartbeat_at = NULL, updated_at = now()
FROM resolved r
WHERE c.id = r.chat_id;
