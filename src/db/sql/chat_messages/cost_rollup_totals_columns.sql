-- Select-list fragment (not a statement): the spend totals over spend rows aliased `r` (daily
-- rollup rows of migration 0007, or messages turned into rows by cost_row_columns.sql), with the
-- same names and types as cost_totals_columns.sql gives over messages.
COALESCE(sum(r.cost), 0)::text AS total_cost_micros,
COALESCE(sum(r.priced_count), 0)::int AS priced_message_count,
COALESCE(sum(r.unpriced_count), 0)::int AS unpriced_message_count,
COALESCE(sum(r.input_tokens), 0)::text AS total_input_tokens,
COALESCE(sum(r.output_tokens), 0)::text AS total_output_tokens,
COALESCE(sum(r.cache_read_tokens), 0)::text AS total_cache_read_tokens,
COALESCE(sum(r.cache_creation_tokens), 0)::text AS total_cache_creation_tokens,
COALESCE(sum(r.runtime_ms), 0)::text AS total_runtime_ms,
COALESCE(sum(r.message_count), 0)::int AS message_count
