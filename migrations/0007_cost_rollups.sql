-- Daily spend rollups for cost analytics (docs/costs.md, "Rollups"). costSummary and costUsers
-- read whole UTC days from these tables and only the partial days at the edges of their range
-- from chat_messages, so a 30-day summary reads ~30 rows per chat and model instead of every
-- message, with exactly the same totals. Rows count assistant messages only, edited-away
-- (soft-deleted) ones included, children rolled up into their root chat: the counting rules of
-- cost analytics. Kept exact by statement-level triggers on chat_messages (insert, update of a
-- counted column, delete, including cascades); a bulk load that bypasses triggers
-- (session_replication_role = replica) must call chat_cost_rollups_rebuild() afterwards.
-- A chat's owner and root never change after creation, which is what lets a message's rows be
-- keyed by them.

-- An unpriced message: no stored cost but some token usage (a stored 0 is free, still priced).
CREATE FUNCTION chat_message_unpriced(cost bigint, input bigint, output bigint, cache_read bigint, cache_creation bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN cost IS NULL AND (COALESCE(input, 0) + COALESCE(output, 0) + COALESCE(cache_read, 0) + COALESCE(cache_creation, 0)) > 0;

-- Per owner, UTC day and root chat (byChat, and chatCount of the per-user rollup).
CREATE TABLE chat_cost_daily_chats (
  owner_id         uuid NOT NULL,
  day              timestamptz NOT NULL,
  root_chat_id     uuid NOT NULL,
  message_count    bigint NOT NULL,
  priced_count     bigint NOT NULL,
  unpriced_count   bigint NOT NULL,
  cost             numeric NOT NULL,
  input_tokens     numeric NOT NULL,
  output_tokens    numeric NOT NULL,
  cache_read_tokens numeric NOT NULL,
  cache_creation_tokens numeric NOT NULL,
  runtime_ms       numeric NOT NULL,
  PRIMARY KEY (owner_id, day, root_chat_id)
);
-- The per-user rollup reads every owner's rows of a range.
CREATE INDEX chat_cost_daily_chats_day_idx ON chat_cost_daily_chats (day);

-- Per owner, UTC day and model config (byModel and the totals; NULL = messages without a model).
CREATE TABLE chat_cost_daily_models (
  owner_id         uuid NOT NULL,
  day              timestamptz NOT NULL,
  model_config_id  uuid,
  message_count    bigint NOT NULL,
  priced_count     bigint NOT NULL,
  unpriced_count   bigint NOT NULL,
  cost             numeric NOT NULL,
  input_tokens     numeric NOT NULL,
  output_tokens    numeric NOT NULL,
  cache_read_tokens numeric NOT NULL,
  cache_creation_tokens numeric NOT NULL,
  runtime_ms       numeric NOT NULL,
  UNIQUE NULLS NOT DISTINCT (owner_id, day, model_config_id)
);

-- The columns of an assistant message that spend is counted from.
CREATE TYPE chat_cost_message AS (
  chat_id uuid, model_config_id uuid, created_at timestamptz, total_cost_micros bigint, input_tokens bigint,
  output_tokens bigint, cache_read_tokens bigint, cache_creation_tokens bigint, runtime_ms bigint
);

-- Adds (sign 1) or removes (sign -1) `msgs` to both rollups, keyed through their chat's owner
-- and root (a message whose chat is gone counts nowhere: see the chats trigger below). Keys are
-- upserted in sorted order, so concurrent writers lock rollup rows in the same order.
CREATE FUNCTION chat_cost_rollups_apply(sign int, msgs chat_cost_message[]) RETURNS void LANGUAGE sql AS $$
  WITH m AS (
    SELECT c.owner_id, COALESCE(c.root_chat_id, c.id) AS root_chat_id, x.model_config_id,
           date_trunc('day', x.created_at, 'UTC') AS day, x.total_cost_micros, x.input_tokens, x.output_tokens,
           x.cache_read_tokens, x.cache_creation_tokens, x.runtime_ms
    FROM unnest(msgs) x
    JOIN chats c ON c.id = x.chat_id
  ), by_chat AS (
    INSERT INTO chat_cost_daily_chats AS r
    SELECT owner_id, day, root_chat_id, sign * count(*), sign * count(total_cost_micros),
           sign * count(*) FILTER (WHERE chat_message_unpriced(total_cost_micros, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens)),
           sign * COALESCE(sum(total_cost_micros), 0), sign * COALESCE(sum(input_tokens), 0), sign * COALESCE(sum(output_tokens), 0),
           sign * COALESCE(sum(cache_read_tokens), 0), sign * COALESCE(sum(cache_creation_tokens), 0), sign * COALESCE(sum(runtime_ms), 0)
    FROM m GROUP BY owner_id, day, root_chat_id ORDER BY owner_id, day, root_chat_id
    ON CONFLICT (owner_id, day, root_chat_id) DO UPDATE SET
      message_count = r.message_count + EXCLUDED.message_count, priced_count = r.priced_count + EXCLUDED.priced_count,
      unpriced_count = r.unpriced_count + EXCLUDED.unpriced_count, cost = r.cost + EXCLUDED.cost,
      input_tokens = r.input_tokens + EXCLUDED.input_tokens, output_tokens = r.output_tokens + EXCLUDED.output_tokens,
      cache_read_tokens = r.cache_read_tokens + EXCLUDED.cache_read_tokens,
      cache_creation_tokens = r.cache_creation_tokens + EXCLUDED.cache_creation_tokens, runtime_ms = r.runtime_ms + EXCLUDED.runtime_ms
  )
  INSERT INTO chat_cost_daily_models AS r
  SELECT owner_id, day, model_config_id, sign * count(*), sign * count(total_cost_micros),
         sign * count(*) FILTER (WHERE chat_message_unpriced(total_cost_micros, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens)),
         sign * COALESCE(sum(total_cost_micros), 0), sign * COALESCE(sum(input_tokens), 0), sign * COALESCE(sum(output_tokens), 0),
         sign * COALESCE(sum(cache_read_tokens), 0), sign * COALESCE(sum(cache_creation_tokens), 0), sign * COALESCE(sum(runtime_ms), 0)
  FROM m GROUP BY owner_id, day, model_config_id ORDER BY owner_id, day, model_config_id
  ON CONFLICT (owner_id, day, model_config_id) DO UPDATE SET
    message_count = r.message_count + EXCLUDED.message_count, priced_count = r.priced_count + EXCLUDED.priced_count,
    unpriced_count = r.unpriced_count + EXCLUDED.unpriced_count, cost = r.cost + EXCLUDED.cost,
    input_tokens = r.input_tokens + EXCLUDED.input_tokens, output_tokens = r.output_tokens + EXCLUDED.output_tokens,
    cache_read_tokens = r.cache_read_tokens + EXCLUDED.cache_read_tokens,
    cache_creation_tokens = r.cache_creation_tokens + EXCLUDED.cache_creation_tokens, runtime_ms = r.runtime_ms + EXCLUDED.runtime_ms;
$$;

CREATE FUNCTION chat_cost_rollups_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM chat_cost_rollups_apply(1, ARRAY(
    SELECT ROW(n.chat_id, n.model_config_id, n.created_at, n.total_cost_micros, n.input_tokens, n.output_tokens,
               n.cache_read_tokens, n.cache_creation_tokens, n.runtime_ms)::chat_cost_message
    FROM new_rows n WHERE n.role = 'assistant'));
  RETURN NULL;
END $$;

CREATE FUNCTION chat_cost_rollups_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM chat_cost_rollups_apply(-1, ARRAY(
    SELECT ROW(o.chat_id, o.model_config_id, o.created_at, o.total_cost_micros, o.input_tokens, o.output_tokens,
               o.cache_read_tokens, o.cache_creation_tokens, o.runtime_ms)::chat_cost_message
    FROM old_rows o WHERE o.role = 'assistant'));
  RETURN NULL;
END $$;

-- Only rows whose counted columns changed move spend (a soft delete on edit changes none).
CREATE FUNCTION chat_cost_rollups_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM chat_cost_rollups_apply(sign, ARRAY(
    SELECT CASE WHEN sign = -1 THEN o.counted ELSE n.counted END
    FROM (SELECT id, role, ROW(chat_id, model_config_id, created_at, total_cost_micros, input_tokens, output_tokens,
                 cache_read_tokens, cache_creation_tokens, runtime_ms)::chat_cost_message AS counted FROM old_rows) o
    JOIN (SELECT id, role, ROW(chat_id, model_config_id, created_at, total_cost_micros, input_tokens, output_tokens,
                 cache_read_tokens, cache_creation_tokens, runtime_ms)::chat_cost_message AS counted FROM new_rows) n ON n.id = o.id
    WHERE (o.role, o.counted) IS DISTINCT FROM (n.role, n.counted)
      AND (CASE WHEN sign = -1 THEN o.role ELSE n.role END) = 'assistant'))
  FROM (VALUES (-1), (1)) AS s(sign);
  RETURN NULL;
END $$;

CREATE TRIGGER chat_cost_rollups_insert AFTER INSERT ON chat_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_cost_rollups_insert();
CREATE TRIGGER chat_cost_rollups_update AFTER UPDATE ON chat_messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_cost_rollups_update();
CREATE TRIGGER chat_cost_rollups_delete AFTER DELETE ON chat_messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_cost_rollups_delete();

-- A deleted chat takes its spend along (as the raw queries, which join chats, would). Its
-- messages are still there before the row goes; their cascaded delete then finds no chat and
-- removes nothing twice.
CREATE FUNCTION chat_cost_rollups_chat_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM chat_cost_rollups_apply(-1, ARRAY(
    SELECT ROW(m.chat_id, m.model_config_id, m.created_at, m.total_cost_micros, m.input_tokens, m.output_tokens,
               m.cache_read_tokens, m.cache_creation_tokens, m.runtime_ms)::chat_cost_message
    FROM chat_messages m WHERE m.chat_id = OLD.id AND m.role = 'assistant'));
  RETURN OLD;
END $$;
CREATE TRIGGER chat_cost_rollups_chat_delete BEFORE DELETE ON chats
  FOR EACH ROW EXECUTE FUNCTION chat_cost_rollups_chat_delete();

-- Recomputes both rollups from chat_messages (after a bulk load that skipped triggers), one
-- chat at a time so no call holds more than one chat's messages.
CREATE FUNCTION chat_cost_rollups_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM chat_cost_daily_chats;
  DELETE FROM chat_cost_daily_models;
  PERFORM chat_cost_rollups_apply(1, ARRAY(
    SELECT ROW(m.chat_id, m.model_config_id, m.created_at, m.total_cost_micros, m.input_tokens, m.output_tokens,
               m.cache_read_tokens, m.cache_creation_tokens, m.runtime_ms)::chat_cost_message
    FROM chat_messages m WHERE m.chat_id = c.id AND m.role = 'assistant'))
  FROM chats c;
END $$;

-- Existing messages (the migration runner takes statements that return no rows).
DO $$ BEGIN PERFORM chat_cost_rollups_rebuild(); END $$;
