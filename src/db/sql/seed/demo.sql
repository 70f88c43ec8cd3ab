-- Demo data: users, priced/free/unpriced model configs, chats in every state with usage, a sub-agent, a PR. Idempotent.
SELECT pg_advisory_xact_lock(7243001);

INSERT INTO users (id, username, name, is_admin, avatar_url) VALUES
  ('00000000-0000-4000-8000-000000000001', 'alice', 'Alice Example', false, NULL),
  ('00000000-0000-4000-8000-000000000002', 'bob', 'Bob Example', false, NULL),
  ('00000000-0000-4000-8000-000000000003', 'admin', 'Ada Admin', true, NULL),
  ('00000000-0000-4000-8000-000000000004', 'worker', 'Chat Worker', false, NULL)
ON CONFLICT DO NOTHING;

INSERT INTO chat_model_configs (id, provider, model, display_name, is_default, context_limit, compression_threshold,
                                input_price, output_price, cache_read_price, cache_write_price) VALUES
  ('10000000-0000-4000-8000-000000000001', 'anthropic', 'claude-sonnet-4-5', 'Claude Sonnet 4.5', true, 200000, 70, 3, 15, 0.3, 3.75),
  ('10000000-0000-4000-8000-000000000002', 'openai', 'gpt-4.1', 'GPT-4.1', false, 1000000, 80, 2, 8, 0.5, NULL),
  ('10000000-0000-4000-8000-000000000003', 'ollama', 'llama3.3', 'Llama 3.3 (local, free)', false, 128000, 70, 0, 0, 0, 0),
  ('10000000-0000-4000-8000-000000000004', 'openrouter', 'experimental-x', 'Experimental (unpriced)', false, 64000, 60, NULL, NULL, NULL, NULL)
ON CONFLICT DO NOTHING;

-- Chats only on the first run (their messages have no natural key to conflict on).
CREATE TEMP TABLE seed_first_run ON COMMIT DROP AS
  SELECT NOT EXISTS (SELECT 1 FROM chats WHERE id = '20000000-0000-4000-8000-000000000001') AS yes;

INSERT INTO chats (id, owner_id, title, status, last_model_config_id, labels, last_error, pin_order, archived,
                   parent_chat_id, root_chat_id, worker_id, started_at, heartbeat_at, created_at, updated_at)
SELECT v.* FROM (VALUES
  ('20000000-0000-4000-8000-000000000001'::uuid, '00000000-0000-4000-8000-000000000001'::uuid, 'Fix flaky login test', 'waiting'::chat_status,
   '10000000-0000-4000-8000-000000000001'::uuid, '{"repo": "web", "kind": "bug"}'::jsonb, NULL::text, 1, false, NULL::uuid, NULL::uuid, NULL::text, NULL::timestamptz, NULL::timestamptz, now() - interval '3 days', now() - interval '2 hours'),
  ('20000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'Add dark mode', 'running',
   '10000000-0000-4000-8000-000000000002', '{"repo": "web", "kind": "feature"}', NULL, 0, false, NULL, NULL, 'demo-worker', now() - interval '1 minute', now() - interval '10 seconds', now() - interval '1 day', now() - interval '1 minute'),
  ('20000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', 'Investigate memory leak', 'error',
   '10000000-0000-4000-8000-000000000001', '{"repo": "api"}', 'tool "run_tests" timed out after 600s', 0, false, NULL, NULL, NULL, NULL, NULL, now() - interval '2 days', now() - interval '5 hours'),
  ('20000000-0000-4000-8000-000000000004', '00000000-0000-4000-8000-000000000001', 'Sub-agent: write migration', 'completed',
   '10000000-0000-4000-8000-000000000003', '{"repo": "api"}', NULL, 0, false, '20000000-0000-4000-8000-000000000003', '20000000-0000-4000-8000-000000000003', NULL, NULL, NULL, now() - interval '2 days', now() - interval '6 hours'),
  ('20000000-0000-4000-8000-000000000005', '00000000-0000-4000-8000-000000000001', 'Old experiment', 'waiting',
   '10000000-0000-4000-8000-000000000004', '{}', NULL, 0, true, NULL, NULL, NULL, NULL, NULL, now() - interval '20 days', now() - interval '19 days'),
  ('20000000-0000-4000-8000-000000000006', '00000000-0000-4000-8000-000000000001', 'Deploy approval', 'requires_action',
   '10000000-0000-4000-8000-000000000001', '{"repo": "infra"}', NULL, 0, false, NULL, NULL, NULL, NULL, NULL, now() - interval '4 hours', now() - interval '30 minutes'),
  ('20000000-0000-4000-8000-000000000007', '00000000-0000-4000-8000-000000000002', 'Bob''s refactor', 'pending',
   '10000000-0000-4000-8000-000000000001', '{"repo": "cli"}', NULL, 0, false, NULL, NULL, NULL, NULL, NULL, now() - interval '1 hour', now() - interval '1 hour')
) AS v
WHERE (SELECT yes FROM seed_first_run);

-- Messages: (chat, role, text, model, input, output, reasoning, cache_read, cache_write, runtime, minutes ago)
INSERT INTO chat_messages (chat_id, role, visibility, content, content_version, model_config_id, created_by,
                           input_tokens, output_tokens, total_tokens, reasoning_tokens, cache_read_tokens,
                           cache_creation_tokens, context_limit, total_cost_micros, runtime_ms, created_at)
SELECT m.chat_id, m.role, 'both', jsonb_build_array(jsonb_build_object('type', 'text', 'text', m.body)), 1, m.model_id,
       CASE WHEN m.role = 'user' THEN c.owner_id END,
       m.input, m.output, m.input + m.output, m.reasoning, m.cache_read, m.cache_write,
       CASE WHEN m.role = 'assistant' THEN mc.context_limit END,
       CASE WHEN m.role = 'assistant' AND mc.input_price IS NOT NULL THEN
         ceil(m.input * mc.input_price + m.output * mc.output_price
              + m.cache_read * coalesce(mc.cache_read_price, 0) + m.cache_write * coalesce(mc.cache_write_price, 0))::bigint END,
       m.runtime, now() - make_interval(mins => m.ago)
FROM (VALUES
  ('20000000-0000-4000-8000-000000000001'::uuid, 'user'::chat_message_role, 'The login test fails one run in ten. Find out why.', '10000000-0000-4000-8000-000000000001'::uuid, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint, 200),
  ('20000000-0000-4000-8000-000000000001', 'assistant', 'The test races the session cookie write. I added an explicit wait on the cookie and the test passed 200 runs in a row.', '10000000-0000-4000-8000-000000000001', 12400, 2100, 600, 8000, 1200, 48000, 180),
  ('20000000-0000-4000-8000-000000000002', 'user', 'Add a dark mode toggle to the settings page.', '10000000-0000-4000-8000-000000000002', NULL, NULL, NULL, NULL, NULL, NULL, 30),
  ('20000000-0000-4000-8000-000000000002', 'assistant', 'I am adding CSS variables for both themes first.', '10000000-0000-4000-8000-000000000002', 9100, 800, 0, 4000, 0, 21000, 5),
  ('20000000-0000-4000-8000-000000000003', 'user', 'The API server grows to 4 GB overnight. Investigate.', '10000000-0000-4000-8000-000000000001', NULL, NULL, NULL, NULL, NULL, NULL, 400),
  ('20000000-0000-4000-8000-000000000003', 'assistant', 'Heap snapshots point at the request cache; a sub-agent is writing the migration for the fix.', '10000000-0000-4000-8000-000000000001', 30500, 4200, 1500, 20000, 5000, 95000, 390),
  ('20000000-0000-4000-8000-000000000004', 'user', 'Write a migration that adds an expiry column to request_cache.', '10000000-0000-4000-8000-000000000003', NULL, NULL, NULL, NULL, NULL, NULL, 380),
  ('20000000-0000-4000-8000-000000000004', 'assistant', 'Migration 0042_request_cache_expiry.sql written and tested.', '10000000-0000-4000-8000-000000000003', 8000, 1500, 0, 0, 0, 30000, 370),
  ('20000000-0000-4000-8000-000000000005', 'user', 'Try the experimental model on the parser.', '10000000-0000-4000-8000-000000000004', NULL, NULL, NULL, NULL, NULL, NULL, 28000),
  ('20000000-0000-4000-8000-000000000005', 'assistant', 'The parser now handles trailing commas.', '10000000-0000-4000-8000-000000000004', 5000, 700, 0, 0, 0, 12000, 27990),
  ('20000000-0000-4000-8000-000000000006', 'user', 'Deploy the fix to staging.', '10000000-0000-4000-8000-000000000001', NULL, NULL, NULL, NULL, NULL, NULL, 60),
  ('20000000-0000-4000-8000-000000000006', 'assistant', 'Ready to run terraform apply on staging; approve to continue.', '10000000-0000-4000-8000-000000000001', 7000, 300, 0, 3000, 0, 9000, 40),
  ('20000000-0000-4000-8000-000000000007', 'user', 'Split cli.ts into one file per command.', '10000000-0000-4000-8000-000000000001', NULL, NULL, NULL, NULL, NULL, NULL, 60)
) AS m(chat_id, role, body, model_id, input, output, reasoning, cache_read, cache_write, runtime, ago)
JOIN chats c ON c.id = m.chat_id
JOIN chat_model_configs mc ON mc.id = m.model_id
WHERE (SELECT yes FROM seed_first_run);

INSERT INTO chat_queued_messages (chat_id, content, model_config_id, created_by)
SELECT '20000000-0000-4000-8000-000000000002', '[{"type": "text", "text": "Also make the toggle remember the choice."}]',
       '10000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000001'
WHERE (SELECT yes FROM seed_first_run);

INSERT INTO chat_diff_statuses (chat_id, url, pull_request_state, pull_request_title, pull_request_draft, changes_requested,
                                additions, deletions, changed_files, author_login, base_branch, head_branch, pr_number,
                                commits, approved, reviewer_count, refreshed_at, stale_at)
SELECT '20000000-0000-4000-8000-000000000001', 'https://git.example.com/acme/web/pull/128', 'open', 'Fix flaky login test', false, false,
       14, 3, 2, 'alice', 'main', 'fix/flaky-login', 128, 2, true, 1, now(), now() + interval '5 minutes'
WHERE (SELECT yes FROM seed_first_run);
