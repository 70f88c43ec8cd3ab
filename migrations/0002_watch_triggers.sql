-- Watch stream (DESIGN section 6): triggers derive chat_events rows from what actually changed,
-- so every writer (the gateway, the worker, psql) produces the same events.
--
-- Stored kinds are neutral (chat_created, status, title, model_config, chat_archived,
-- chat_unarchived, message, message_deleted, queue, diff_status, model_config_created,
-- model_config_updated, model_config_deleted, model_config_default_changed); the GraphQL layer
-- maps them onto its public enums. Chat-scoped events copy owner_id from chats so visibility
-- filtering needs no join; events of a child chat carry data.root_chat_id.

-- Per-chat (chatEvents) and per-owner (chatWatch) replay read their slice in delivery order.
CREATE INDEX chat_events_chat_xid_seq_idx ON chat_events (chat_id, xid, seq) WHERE chat_id IS NOT NULL;
CREATE INDEX chat_events_owner_xid_seq_idx ON chat_events (owner_id, xid, seq) WHERE owner_id IS NOT NULL;

-- One row: the highest (xid, seq) retention pruning has deleted. A cursor below it may have
-- missed pruned events, so replay from it is refused ("cursor expired, refetch"). A watermark
-- rather than "older than the oldest retained row", because the log may be empty after a prune
-- and a cursor just below the oldest row may have missed nothing.
CREATE TABLE chat_events_pruned (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  xid        xid8 NOT NULL,
  seq        bigint NOT NULL,
  pruned_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE chat_events_pruned IS 'Single row: the highest chat_events position deleted by retention pruning.';

-- The wake-up call. The payload is only the writer's xid (at most 20 bytes, whatever the row
-- size), and NOTIFY folds identical payloads within one transaction, so a transaction sends one
-- notification however many events it appends. Listeners read the events themselves.
CREATE FUNCTION chat_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('chatgraph_events', pg_current_xact_id()::text);
  RETURN NULL;
END $$;
CREATE TRIGGER chat_events_notify AFTER INSERT ON chat_events
  FOR EACH STATEMENT EXECUTE FUNCTION chat_events_notify();

-- chats ------------------------------------------------------------------------------------

CREATE FUNCTION chat_events_chats_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chat_events (kind, chat_id, owner_id, data)
  VALUES ('chat_created', NEW.id, NEW.owner_id,
          jsonb_strip_nulls(jsonb_build_object('status', NEW.status, 'root_chat_id', NEW.root_chat_id)));
  RETURN NULL;
END $$;
CREATE TRIGGER chat_events_chats_insert AFTER INSERT ON chats
  FOR EACH ROW EXECUTE FUNCTION chat_events_chats_insert();

-- One UPDATE may change several watched columns: one event each, in this fixed order.
CREATE FUNCTION chat_events_chats_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  root jsonb := jsonb_strip_nulls(jsonb_build_object('root_chat_id', NEW.root_chat_id));
BEGIN
  INSERT INTO chat_events (kind, chat_id, owner_id, model_config_id, data)
  SELECT k.kind, NEW.id, NEW.owner_id, k.model_config_id, root || k.data
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
-- The WHEN clause keeps heartbeats, read marks, labels and updated_at-only writes from even
-- calling the function.
CREATE TRIGGER chat_events_chats_update AFTER UPDATE ON chats
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.title IS DISTINCT FROM NEW.title
        OR OLD.last_model_config_id IS DISTINCT FROM NEW.last_model_config_id
        OR OLD.archived IS DISTINCT FROM NEW.archived)
  EXECUTE FUNCTION chat_events_chats_update();

-- chat_messages ----------------------------------------------------------------------------

-- Row-level on purpose: an AFTER ROW trigger keeps only the row's address until it fires and
-- never detoasts content it does not read, whereas a transition table would hold whole
-- (possibly megabyte-sized) messages in memory.
CREATE FUNCTION chat_events_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO chat_events (kind, chat_id, owner_id, message_id, data)
  SELECT CASE TG_OP WHEN 'INSERT' THEN 'message' ELSE 'message_deleted' END,
         c.id, c.owner_id, NEW.id,
         jsonb_strip_nulls(jsonb_build_object('role', NEW.role, 'root_chat_id', c.root_chat_id))
  FROM chats c
  WHERE c.id = NEW.chat_id;
  RETURN NULL;
END $$;
CREATE TRIGGER chat_events_messages_insert AFTER INSERT ON chat_messages
  FOR EACH ROW EXECUTE FUNCTION chat_events_messages();
CREATE TRIGGER chat_events_messages_delete AFTER UPDATE ON chat_messages
  FOR EACH ROW WHEN (NOT OLD.deleted AND NEW.deleted) EXECUTE FUNCTION chat_events_messages();

-- chat_queued_messages ---------------------------------------------------------------------

-- Statement-level: one 'queue' event per chat per statement, so clearing a queue of five rows
-- is one event (clients refetch the whole queue anyway). Rows of a chat that no longer exists
-- (cascade from a chat delete) produce nothing. Transition tables allow one event per trigger,
-- hence three triggers on one function.
CREATE FUNCTION chat_events_queue() RETURNS trigger LANGUAGE plpgsql AS $$
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
  INSERT INTO chat_events (kind, chat_id, owner_id, data)
  SELECT 'queue', c.id, c.owner_id, jsonb_strip_nulls(jsonb_build_object('root_chat_id', c.root_chat_id))
  FROM chats c
  WHERE c.id = ANY (changed)
  ORDER BY c.id;
  RETURN NULL;
END $$;
CREATE TRIGGER chat_events_queue_insert AFTER INSERT ON chat_queued_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_events_queue();
CREATE TRIGGER chat_events_queue_delete AFTER DELETE ON chat_queued_messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_events_queue();
CREATE TRIGGER chat_events_queue_update AFTER UPDATE ON chat_queued_messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_events_queue();

-- chat_diff_statuses -----------------------------------------------------------------------

CREATE FUNCTION chat_events_diff_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target uuid := CASE TG_OP WHEN 'DELETE' THEN OLD.chat_id ELSE NEW.chat_id END;
BEGIN
  INSERT INTO chat_events (kind, chat_id, owner_id, data)
  SELECT 'diff_status', c.id, c.owner_id,
         jsonb_strip_nulls(jsonb_build_object('root_chat_id', c.root_chat_id, 'removed', TG_OP = 'DELETE' OR NULL))
  FROM chats c
  WHERE c.id = target;
  RETURN NULL;
END $$;
CREATE TRIGGER chat_events_diff_status_insert AFTER INSERT OR DELETE ON chat_diff_statuses
  FOR EACH ROW EXECUTE FUNCTION chat_events_diff_status();
-- A refresh that only moves the bookkeeping timestamps is not a change; comparing everything
-- else (rather than listing columns) keeps columns added later watched by default.
CREATE TRIGGER chat_events_diff_status_update AFTER UPDATE ON chat_diff_statuses
  FOR EACH ROW
  WHEN (to_jsonb(OLD) - ARRAY['refreshed_at', 'updated_at', 'stale_at']
        IS DISTINCT FROM to_jsonb(NEW) - ARRAY['refreshed_at', 'updated_at', 'stale_at'])
  EXECUTE FUNCTION chat_events_diff_status();

-- chat_model_configs -----------------------------------------------------------------------

-- Global events (chat_id and owner_id NULL). A soft delete is only 'model_config_deleted'
-- whatever else it clears; becoming the default is 'model_config_default_changed', plus
-- 'model_config_updated' when other columns changed too. The previous default losing the flag
-- is an ordinary 'model_config_updated'.
CREATE FUNCTION chat_events_model_configs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  became_default boolean;
  ignored text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO chat_events (kind, model_config_id, data) VALUES ('model_config_created', NEW.id, '{}');
    RETURN NULL;
  END IF;
  IF NOT OLD.deleted AND NEW.deleted THEN
    INSERT INTO chat_events (kind, model_config_id, data) VALUES ('model_config_deleted', NEW.id, '{}');
    RETURN NULL;
  END IF;
  became_default := NEW.is_default AND NOT OLD.is_default;
  ignored := CASE WHEN became_default THEN ARRAY['updated_at', 'is_default'] ELSE ARRAY['updated_at'] END;
  INSERT INTO chat_events (kind, model_config_id, data)
  SELECT k.kind, NEW.id, '{}'
  FROM (VALUES
    (1, 'model_config_default_changed', became_default),
    (2, 'model_config_updated', to_jsonb(OLD) - ignored IS DISTINCT FROM to_jsonb(NEW) - ignored)
  ) AS k (ord, kind, changed)
  WHERE k.changed
  ORDER BY k.ord;
  RETURN NULL;
END $$;
CREATE TRIGGER chat_events_model_configs_insert AFTER INSERT ON chat_model_configs
  FOR EACH ROW EXECUTE FUNCTION chat_events_model_configs();
CREATE TRIGGER chat_events_model_configs_update AFTER UPDATE ON chat_model_configs
  FOR EACH ROW
  WHEN (to_jsonb(OLD) - 'updated_at' IS DISTINCT FROM to_jsonb(NEW) - 'updated_at')
  EXECUTE FUNCTION chat_events_model_configs();
