-- The newest settled position: the last settled event, or the prune watermark when that is
-- higher (an emptied log), or the very beginning.
SELECT h.xid::text AS xid, h.seq::text AS seq
FROM (
  (SELECT xid, seq FROM chat_events
   WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
   ORDER BY xid DESC, seq DESC
   LIMIT 1)
  UNION ALL
  SELECT xid, seq FROM chat_events_pruned
  UNION ALL
  SELECT '0'::xid8, 0
) h
ORDER BY h.xid DESC, h.seq DESC
LIMIT 1
