-- The migration runner's own bookkeeping: one row per applied migrations/NNNN_*.sql file, with its checksum.
CREATE TABLE IF NOT EXISTS schema_migrations (
  id integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now())
