-- Deletes one batch of settled events older than the cutoff and raises the prune watermark to
-- the highest position deleted. Unsettled events are kept: no reader has seen them yet.
WITH gone AS (
  DELETE FROM chat_events
  WHERE seq IN (
    SELECT seq FROM chat_events
    WHERE occurred_at < ${before} AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY occurred_at
    LIMIT ${limit}
  )
  RETURNING xid, seq
), top AS (
  SELECT xid, seq FROM gone ORDER BY xid DESC, seq DESC LIMIT 1
), mark AS (
  INSERT INTO chat_events_pruned AS p (xid, seq)
  SELECT xid, seq FROM top
  ON CONFLICT (singleton) DO UPDATE SET xid = excluded.xid, seq = excluded.seq, pruned_at = now()
    WHERE (p.xid, p.seq) < (excluded.xid, excluded.seq)
)
SELECT count(*)::int AS deleted FROM gone
