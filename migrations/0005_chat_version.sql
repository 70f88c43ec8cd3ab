-- chats.version: a per-chat counter that increases with every change to the chat's own state
-- (status, last_error, title, model, labels, pin order, archive), its queue or its diff status,
-- and is stored on every chat event, so a client keeps the highest version per chat and ignores
-- anything lower (docs/subscriptions.md, "Stale events"). Message inserts never bump it: the
-- message hot path must still leave the chats row untouched when the model does not change;
-- messages are ordered by their id instead.
--
-- The trigger functions below replace the 0002 versions of the same name as a whole.

ALTER TABLE chats ADD COLUMN version bigint NOT NULL DEFAULT 1;
ALTER TABLE chat_events ADD COLUMN version bigint;
COMMENT ON COLUMN chats.version IS 'Increases with every change to the chat''s state, queue or diff status; never with a message insert.';
COMMENT ON COLUMN chat_events.version IS 'The chat''s version after the change (NULL for model-config events).';

-- A write of the chat's own state bumps the version in the same row write. A writer that bumps
-- it explicitly (the queue and diff triggers below) is left alone.
CREATE FUNCTION chats_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.version IS NOT DISTINCT FROM OLD.version THEN
    NEW.version := OLD.version + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER chats_bump_version BEFORE UPDATE ON chats
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.last_error IS DISTINCT FROM NEW.last_error
        OR OLD.title IS DISTINCT FROM NEW.title
        OR OLD.last_model_config_id IS DISTINCT FROM NEW.last_model_config_id
        OR OLD.labels IS DISTINCT FROM NEW.labels
        OR OLD.pin_order IS DISTINCT FROM NEW.pin_order
        OR OLD.archived IS DISTINCT FROM NEW.archived)
  EXECUTE FUNCTION chats_bump_version();

CREATE OR REPLACE FUNCTION chat_events_chats_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chat_events (kind, chat_id, owner_id, version, data)
  VALUES ('chat_created', NEW.id, NEW.owner_id, NEW.version,
          jsonb_strip_nulls(jsonb_build_object('status', NEW.status, 'root_chat_id', NEW.root_chat_id)));
  RETURN NULL;
END $$;

-- One UPDATE may change several watched columns: one event each, in this fixed order, all with
-- the row's new version.
CREATE OR REPLACE FUNCTION chat_events_chats_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  root jsonb := jsonb_strip_nulls(jsonb_build_object('root_chat_id', NEW.root_chat_id));
BEGIN
  INSERT INTO chat_events (kind, chat_id, owner_id, model_config_id, version, data)
  SELECT k.kind, NEW.id, NEW.owner_id, k.model_config_id, NEW.version, root || k.data
  FROM (VALUES
    (1, 'status', NULL::uuid,
        jsonb_build_object('status', NEW.status, 'previous', OLD.status),
        OLD.status IS DISTINCT FROM NEW.status),
    (2, 'title', NULL, '{}'::jsonb, OLD.title IS DISTINCT FROM NEW.title),
    (3, 'model_config', NEW.last_model_config_id,
        jsonb_build_object('from', OLD.last_model_config_id, 'to', NEW.last_model_config_id),
        OLD.last_model_config_id IS DISTINCT FROM NEW.last_model_config_id),
    (4, 'chat_archived', NULL, '{}', NOT OLD.archived AND NEW.archived),
    (5, 'chat_unarchived', NULL, '{}', OLD.archived AND NOT NEW.archived)
  ) AS k (ord, kind, model_config_id, data, changed)
  WHERE k.changed
  ORDER BY k.ord;
  RETURN NULL;
END $$;

-- Messages carry the chat's current version (read, never bumped).
CREATE OR REPLACE FUNCTION chat_events_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chat_events (kind, chat_id, owner_id, message_id, version, data)
  SELECT CASE TG_OP WHEN 'INSERT' THEN 'message' ELSE 'message_deleted' END,
         c.id, c.owner_id, NEW.id, c.version,
         jsonb_strip_nulls(jsonb_build_object('role', NEW.role, 'root_chat_id', c.root_chat_id))
  FROM chats c
  WHERE c.id = NEW.chat_id;
  RETURN NULL;
END $$;

-- A queue change bumps each changed chat's version once per statement (the chat row is already
-- locked by the writer, which locks the chat before touching its queue).
CREATE OR REPLACE FUNCTION chat_events_queue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed uuid[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT chat_id) INTO changed FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(DISTINCT chat_id) INTO changed FROM old_rows;
  ELSE
    SELECT array_agg(DISTINCT x) INTO changed
    FROM new_rows n JOIN old_rows o USING (id), unnest(ARRAY[n.chat_id, o.chat_id]) AS x
    WHERE n IS DISTINCT FROM o;
  END IF;
  IF changed IS NULL THEN
    RETURN NULL; -- nothing changed: do not append (and so do not notify)
  END IF;
  WITH bumped AS (
    UPDATE chats c SET version = c.version + 1
    WHERE c.id = ANY (changed)
    RETURNING c.id, c.owner_id, c.root_chat_id, c.version
  )
  INSERT INTO chat_events (kind, chat_id, owner_id, version, data)
  SELECT 'queue', b.id, b.owner_id, b.version, jsonb_strip_nulls(jsonb_build_object('root_chat_id', b.root_chat_id))
  FROM bumped b
  ORDER BY b.id;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION chat_events_diff_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target uuid := CASE TG_OP WHEN 'DELETE' THEN OLD.chat_id ELSE NEW.chat_id END;
BEGIN
  WITH bumped AS (
    UPDATE chats c SET version = c.version + 1
    WHERE c.id = target
    RETURNING c.id, c.owner_id, c.root_chat_id, c.version
  )
  INSERT INTO chat_events (kind, chat_id, owner_id, version, data)
  SELECT 'diff_status', b.id, b.owner_id, b.version,
         jsonb_strip_nulls(jsonb_build_object('root_chat_id', b.root_chat_id, 'removed', TG_OP = 'DELETE' OR NULL))
  FROM bumped b;
  RETURN NULL;
END $$;
