-- Sends the NOTIFY payloads of every batch whose worker still runs its chat, in one statement,
-- and returns the indexes of those batches. Parts are ephemeral: the commit need not wait for
-- the WAL flush (synchronous_commit off for this transaction only), so a publish costs no fsync.
WITH owned AS (
  SELECT b.i
  FROM unnest(${chatIds}::uuid[], ${workerIds}::text[]) WITH ORDINALITY AS b (chat_id, worker_id, i)
  JOIN chats c ON c.id = b.chat_id AND c.status = 'running' AND c.worker_id = b.worker_id
), sent AS (
  SELECT o.i, count(pg_notify(${channel}, p.payload)) AS n
  FROM owned o
  JOIN unnest(${batchOf}::int[], ${payloads}::text[]) WITH ORDINALITY AS p (i, payload, ord) ON p.i = o.i
  GROUP BY o.i
)
SELECT set_config('synchronous_commit', 'off', true) AS commit_mode,
       coalesce((SELECT array_agg(i::int ORDER BY i) FROM sent), '{}') AS owned
