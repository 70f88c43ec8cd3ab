-- Small queue events: a queue event now says what changed in the chat's queue, so a client can
-- apply the change instead of receiving (or refetching) the whole queue. Per chat touched by the
-- statement, `data` gains the queued-message ids it added, removed (promoted, deleted, cleared)
-- and updated (edited), as strings, oldest first, and the queue's length right after the
-- statement. A row moved to another chat counts as removed from one and added to the other.
-- Everything else is unchanged: one event per chat per statement, one version bump per chat
-- (the writer already holds the chat row lock), nothing appended when nothing changed.
CREATE OR REPLACE FUNCTION chat_events_queue() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  per_chat jsonb;
BEGIN
  -- Transition tables only exist for their operation, so each branch names only its own.
  IF TG_OP = 'INSERT' THEN
    SELECT jsonb_object_agg(chat_id, jsonb_build_object('added', ids)) INTO per_chat
    FROM (SELECT chat_id, jsonb_agg(id::text ORDER BY id) AS ids FROM new_rows GROUP BY chat_id) x;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT jsonb_object_agg(chat_id, jsonb_build_object('removed', ids)) INTO per_chat
    FROM (SELECT chat_id, jsonb_agg(id::text ORDER BY id) AS ids FROM old_rows GROUP BY chat_id) x;
  ELSE
    SELECT jsonb_object_agg(chat_id, changes) INTO per_chat
    FROM (
      SELECT chat_id, jsonb_strip_nulls(jsonb_build_object(
               'added', jsonb_agg(id::text ORDER BY id) FILTER (WHERE op = 'added'),
               'removed', jsonb_agg(id::text ORDER BY id) FILTER (WHERE op = 'removed'),
               'updated', jsonb_agg(id::text ORDER BY id) FILTER (WHERE op = 'updated'))) AS changes
      FROM (
        SELECT n.chat_id, n.id, 'updated' AS op FROM new_rows n JOIN old_rows o USING (id)
        WHERE n IS DISTINCT FROM o AND n.chat_id = o.chat_id
        UNION ALL
        SELECT n.chat_id, n.id, 'added' FROM new_rows n JOIN old_rows o USING (id) WHERE n.chat_id <> o.chat_id
        UNION ALL
        SELECT o.chat_id, o.id, 'removed' FROM new_rows n JOIN old_rows o USING (id) WHERE n.chat_id <> o.chat_id
      ) c
      GROUP BY chat_id
    ) x;
  END IF;
  IF per_chat IS NULL THEN
    RETURN NULL; -- nothing changed: do not append (and so do not notify)
  END IF;
  WITH bumped AS (
    UPDATE chats c SET version = c.version + 1
    WHERE c.id IN (SELECT k::uuid FROM jsonb_object_keys(per_chat) AS k)
    RETURNING c.id, c.owner_id, c.root_chat_id, c.version
  )
  INSERT INTO chat_events (kind, chat_id, owner_id, version, data)
  SELECT 'queue', b.id, b.owner_id, b.version,
         jsonb_strip_nulls(jsonb_build_object('root_chat_id', b.root_chat_id))
           || (per_chat -> b.id::text)
           || jsonb_build_object('length', (SELECT count(*) FROM chat_queued_messages q WHERE q.chat_id = b.id))
  FROM bumped b
  ORDER BY b.id;
  RETURN NULL;
END $$;
