-- Settled events after a position, plus the snapshot's xmin, the prune watermark and whether
-- committed events are waiting to settle.
-- One statement, so rows, xmin and the prune watermark all come from the same snapshot: an event
-- is settled when its transaction is below that snapshot's xmin (DESIGN 6, docs/events.md).
WITH snap AS (
  SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
), page AS (
  SELECT e.*
  FROM chat_events e, snap
  WHERE (e.xid, e.seq) > (${afterXid}::xid8, ${afterSeq}::bigint)
    AND e.xid < snap.xmin
    ${bounds:raw}
  ORDER BY e.xid, e.seq
  LIMIT ${limit}
)
SELECT p.seq::text AS seq, p.xid::text AS xid, p.kind, p.chat_id, p.owner_id, p.model_config_id,
       p.message_id::text AS message_id, p.data, p.occurred_at,
       snap.xmin::text AS settled_below,
       w.xid::text AS pruned_xid, w.seq::text AS pruned_seq,
       EXISTS (SELECT 1 FROM chat_events e
               WHERE (e.xid, e.seq) > (${afterXid}::xid8, ${afterSeq}::bigint)
                 AND e.xid >= snap.xmin
                 ${bounds:raw}) AS unsettled
FROM snap
LEFT JOIN chat_events_pruned w ON true
LEFT JOIN page p ON true
ORDER BY p.xid, p.seq
