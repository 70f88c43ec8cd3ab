-- Settled events after a position, plus the prune watermark and whether committed events are
-- waiting to settle. One statement, so rows, xmin and watermark all come from the same
-- snapshot: an event is settled when its transaction is below that snapshot's xmin
-- (docs/events.md, "No lost events"). xmin is read once (an InitPlan) so it can bound index scans.
WITH snap AS MATERIALIZED (
  SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
), page AS (
  SELECT e.*
  FROM chat_events e
  WHERE (e.xid, e.seq) > (${afterXid}::xid8, ${afterSeq}::bigint)
    AND e.xid < (SELECT xmin FROM snap)
    ${bounds:raw}
  ORDER BY e.xid, e.seq
  LIMIT ${limit}
), flags AS (
  SELECT -- Unsettled events all sort after settled ones, so the newest event tells (one index probe).
         coalesce((SELECT e.xid >= (SELECT xmin FROM snap)
                   FROM chat_events e
                   WHERE (e.xid, e.seq) > (${afterXid}::xid8, ${afterSeq}::bigint)
                     ${bounds:raw}
                   ORDER BY e.xid DESC, e.seq DESC
                   LIMIT 1), false) AS unsettled
)
SELECT p.seq::text AS seq, p.xid::text AS xid, p.kind, p.chat_id, p.owner_id, p.model_config_id,
       p.message_id::text AS message_id, p.version::text AS version, p.data, p.occurred_at,
       f.unsettled, w.xid::text AS pruned_xid, w.seq::text AS pruned_seq
FROM flags f
LEFT JOIN chat_events_pruned w ON true
LEFT JOIN page p ON true
ORDER BY p.xid, p.seq
