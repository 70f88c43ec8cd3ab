-- The archive rule in one statement: archive or unarchive a chat and every sub-agent below it, at any
-- depth (parent chain walked down; UNION drops revisits, so a corrupt cycle ends). Archived
-- members that were pending or running become waiting and lose their worker claim.
WITH RECURSIVE family(id) AS (
  SELECT ${id}::uuid
  UNION
  SELECT c.id FROM chats c JOIN family f ON c.parent_chat_id = f.id
)
UPDATE chats SET archived = ${archived}, updated_at = now(),
  status = CASE WHEN ${archived} AND status IN ('pending', 'running') THEN 'waiting'::chat_status ELSE status END,
  worker_id = CASE WHEN ${archived} AND status IN ('pending', 'running') THEN NULL ELSE worker_id END
WHERE id IN (SELECT id FROM family) AND archived IS DISTINCT FROM ${archived}
RETURNING *, (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us
