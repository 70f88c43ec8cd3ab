-- Bench data set (bench harness only): 20 users, 10,000 chats (the bench user owns 450 roots + 50 children), ~20 messages with usage per chat, queues, diff statuses, 4 priced/free/unpriced model configs.
-- Deterministic: setseed() fixes random(); ids are built from the chat number i. Shapes follow src/db/sql/seed/demo.sql.
SELECT setseed(0.4242);

-- Same four configs as the demo seed: priced (default), priced without a cache-write price, free, unpriced.
INSERT INTO chat_model_configs (id, provider, model, display_name, is_default, context_limit, compression_threshold,
                                input_price, output_price, cache_read_price, cache_write_price) VALUES
  ('10000000-0000-4000-8000-000000000001', 'anthropic', 'claude-sonnet-4-5', 'Claude Sonnet 4.5', true, 200000, 70, 3, 15, 0.3, 3.75),
  ('10000000-0000-4000-8000-000000000002', 'openai', 'gpt-4.1', 'GPT-4.1', false, 1000000, 80, 2, 8, 0.5, NULL),
  ('10000000-0000-4000-8000-000000000003', 'ollama', 'llama3.3', 'Llama 3.3 (local, free)', false, 128000, 70, 0, 0, 0, 0),
  ('10000000-0000-4000-8000-000000000004', 'openrouter', 'experimental-x', 'Experimental (unpriced)', false, 64000, 60, NULL, NULL, NULL, NULL);

-- 19 other users; user k (1..19) owns the chats with i % 20 = k, the bench user those with i % 20 = 0.
INSERT INTO users (id, username, name)
SELECT ('00000000-0000-4000-8000-' || lpad(k::text, 12, '0'))::uuid, 'bench-user-' || k, 'Bench User ' || k
FROM generate_series(1, 19) AS k;

-- The chat plan: i = 1..9000 are roots, 9001..10000 children of root (i - 9000) * 9 (same owner, close in
-- time). h is a per-chat random number behind every categorical choice, so the bench user's chats are as
-- varied as everyone else's although they are picked by i.
CREATE TEMP TABLE bench_chats (i int PRIMARY KEY, id uuid, owner_id uuid, parent_id uuid, h int, r_status float8,
                               archived boolean, updated_at timestamptz, model_id uuid) ON COMMIT DROP;
INSERT INTO bench_chats (i, id, owner_id, h, r_status, archived, updated_at)
SELECT i, ('20000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
       CASE WHEN i % 20 = 0 THEN ${benchUserId}::uuid
            ELSE ('00000000-0000-4000-8000-' || lpad((i % 20)::text, 12, '0'))::uuid END,
       (random() * 1000000)::int, random(), random() < 0.1, now() - random() * interval '30 days'
FROM generate_series(1, 9000) AS i;
INSERT INTO bench_chats (i, id, owner_id, parent_id, h, r_status, archived, updated_at)
SELECT n, ('20000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, p.owner_id, p.id,
       (random() * 1000000)::int, random(), false, p.updated_at - random() * interval '1 hour'
FROM generate_series(9001, 10000) AS n
JOIN bench_chats p ON p.i = (n - 9000) * 9;
-- Model per chat: 40% priced default, 30% GPT-4.1, 20% free, 10% unpriced.
UPDATE bench_chats SET model_id = ('10000000-0000-4000-8000-00000000000'
  || CASE WHEN h % 10 < 4 THEN 1 WHEN h % 10 < 7 THEN 2 WHEN h % 10 < 9 THEN 3 ELSE 4 END)::uuid;

INSERT INTO chats (id, owner_id, title, status, last_model_config_id, labels, last_error, pin_order, archived,
                   parent_chat_id, root_chat_id, worker_id, started_at, heartbeat_at, created_at, updated_at)
SELECT b.id, b.owner_id,
       CASE WHEN b.parent_id IS NOT NULL THEN 'Sub-agent: ' ELSE '' END
         || (ARRAY['Fix flaky login test', 'Add dark mode', 'Investigate memory leak', 'Write migration',
                   'Refactor the CLI', 'Speed up CI', 'Upgrade dependencies', 'Document the API'])[1 + b.h % 8]
         || ' #' || b.i,
       s.status, b.model_id,
       jsonb_build_object('repo', (ARRAY['web', 'api', 'cli', 'infra', 'docs'])[1 + b.h / 10 % 5],
                          'kind', (ARRAY['bug', 'feature', 'chore'])[1 + b.h / 50 % 3]),
       CASE WHEN s.status = 'error' THEN 'tool "run_tests" timed out after 600s' END,
       CASE WHEN b.h % 50 = 0 THEN 1 ELSE 0 END,
       b.archived, b.parent_id, b.parent_id,
       CASE WHEN s.status = 'running' THEN 'bench-worker-' || b.h % 4 END,
       CASE WHEN s.status = 'running' THEN b.updated_at - interval '1 minute' END,
       CASE WHEN s.status = 'running' THEN b.updated_at END,
       b.updated_at - interval '2 days', b.updated_at
FROM bench_chats b
CROSS JOIN LATERAL (SELECT CASE
  WHEN b.r_status < 0.45 THEN 'waiting' WHEN b.r_status < 0.65 THEN 'completed' WHEN b.r_status < 0.75 THEN 'running'
  WHEN b.r_status < 0.82 THEN 'pending' WHEN b.r_status < 0.88 THEN 'error' WHEN b.r_status < 0.93 THEN 'requires_action'
  ELSE 'paused' END::chat_status AS status) s
ORDER BY b.i;

-- Messages: 10..30 per chat (about 20): a user turn, then an assistant tool call, the tool result and an
-- assistant answer, repeating. Assistant rows carry usage and a cost computed like the demo seed (ceil of
-- exact decimals). Every seventh chat ran its first turns on another model (a switch in its history).
INSERT INTO chat_messages (chat_id, role, visibility, content, content_version, model_config_id, created_by,
                           input_tokens, output_tokens, total_tokens, reasoning_tokens, cache_read_tokens,
                           cache_creation_tokens, context_limit, total_cost_micros, runtime_ms, created_at)
SELECT b.id, r.role, 'both', r.content, 1, mc.id,
       CASE WHEN r.role = 'user' THEN b.owner_id END,
       u.input, u.output, u.input + u.output, u.reasoning, u.cache_read, u.cache_write,
       CASE WHEN r.role = 'assistant' THEN mc.context_limit END,
       CASE WHEN r.role = 'assistant' AND mc.input_price IS NOT NULL THEN
         ceil(u.input * mc.input_price + u.output * mc.output_price
              + u.cache_read * coalesce(mc.cache_read_price, 0) + u.cache_write * coalesce(mc.cache_write_price, 0))::bigint END,
       CASE WHEN r.role = 'assistant' THEN 800 + (random() * 20000)::bigint WHEN r.role = 'tool' THEN (random() * 3000)::bigint END,
       b.updated_at - interval '2 days' + k * interval '1 minute'
FROM bench_chats b
CROSS JOIN LATERAL generate_series(1, 10 + b.h % 21) AS k
JOIN chat_model_configs mc ON mc.id = CASE
  WHEN b.h % 7 = 0 AND k < 8 THEN
    CASE WHEN b.model_id = '10000000-0000-4000-8000-000000000001' THEN '10000000-0000-4000-8000-000000000002'::uuid
         ELSE '10000000-0000-4000-8000-000000000001'::uuid END
  ELSE b.model_id END
CROSS JOIN LATERAL (SELECT
  CASE k % 4 WHEN 1 THEN 'user' WHEN 3 THEN 'tool' ELSE 'assistant' END::chat_message_role AS role,
  CASE k % 4
    WHEN 1 THEN jsonb_build_array(jsonb_build_object('type', 'text', 'text',
      'Step ' || k || ': the tests in packages/' || (ARRAY['web', 'api', 'cli'])[1 + k % 3] || ' fail on CI but pass locally. '
      || 'Find out why, fix it, and keep the change small.'))
    WHEN 2 THEN jsonb_build_array(
      jsonb_build_object('type', 'reasoning', 'text', 'I should read the failing test before changing anything.'),
      jsonb_build_object('type', 'text', 'text', 'Let me read the test file first.'),
      jsonb_build_object('type', 'tool-call', 'toolCallId', 'call_' || b.i || '_' || k, 'toolName', 'read_file',
                         'args', jsonb_build_object('path', 'src/tests/login_' || k || '.test.ts')))
    WHEN 3 THEN jsonb_build_array(jsonb_build_object('type', 'tool-result', 'toolCallId', 'call_' || b.i || '_' || (k - 1),
      'toolName', 'read_file', 'isError', false,
      'result', jsonb_build_object('content', repeat('expect(await login(page)).toBe(true);' || chr(10), 6))))
    ELSE jsonb_build_array(jsonb_build_object('type', 'text', 'text',
      E'The test races the session cookie write.\n\n  I added an explicit wait on the cookie, '
      || 'reran the suite ' || (10 + k) || ' times and it passed every time. '
      || 'The remaining flakiness in the ' || (ARRAY['web', 'api', 'cli'])[1 + (b.h + k) % 3] || ' package comes from a shared '
      || 'temporary directory; I gave each worker its own and removed the retry wrapper that was hiding it.'))
  END AS content) r
CROSS JOIN LATERAL (SELECT
  CASE WHEN r.role = 'assistant' THEN 2000 + k * 900 + (random() * 1000)::bigint END AS input,
  CASE WHEN r.role = 'assistant' THEN 100 + (random() * 1400)::bigint END AS output,
  CASE WHEN r.role = 'assistant' THEN (random() * 80)::bigint END AS reasoning,
  CASE WHEN r.role = 'assistant' THEN 1000 + k * 500 END AS cache_read,
  CASE WHEN r.role = 'assistant' THEN CASE WHEN k % 4 = 2 THEN 400 ELSE 0 END END AS cache_write) u
ORDER BY b.i, k;

-- Queues on busy chats (running/pending): 1..3 messages, the second one for GPT-4.1 whatever the chat uses.
INSERT INTO chat_queued_messages (chat_id, content, model_config_id, created_by, created_at)
SELECT b.id, jsonb_build_array(jsonb_build_object('type', 'text', 'text', 'Also run the linter after step ' || q || '.')),
       CASE WHEN q = 2 THEN '10000000-0000-4000-8000-000000000002'::uuid ELSE b.model_id END,
       b.owner_id, b.updated_at + q * interval '1 second'
FROM bench_chats b
JOIN chats c ON c.id = b.id
CROSS JOIN LATERAL generate_series(1, 1 + b.h % 3) AS q
WHERE c.status IN ('running', 'pending')
ORDER BY b.i, q;

-- Pull-request state on half of the chats.
INSERT INTO chat_diff_statuses (chat_id, url, pull_request_state, pull_request_title, pull_request_draft, changes_requested,
                                additions, deletions, changed_files, author_login, base_branch, head_branch, pr_number,
                                commits, approved, reviewer_count, refreshed_at, stale_at)
SELECT c.id, 'https://git.example.com/acme/' || (c.labels ->> 'repo') || '/pull/' || b.i,
       (ARRAY['open', 'open', 'open', 'merged', 'closed'])[1 + b.h / 7 % 5]::pull_request_state,
       c.title, b.h % 6 = 0, b.h % 9 = 0,
       b.h % 900, b.h / 900 % 300, 1 + b.h % 25, 'dev' || b.h % 20, 'main', 'agent/chat-' || b.i, b.i,
       1 + b.h % 7, b.h % 4 = 0, b.h % 3, c.updated_at, c.updated_at + interval '5 minutes'
FROM bench_chats b
JOIN chats c ON c.id = b.id
WHERE b.h / 3 % 2 = 0;

-- Read markers on 80% of chats: most read up to their newest message, some three messages behind (unread);
-- the other 20% were never opened.
UPDATE chats c SET last_read_message_id = CASE WHEN b.h / 13 % 10 < 6 OR b.parent_id IS NOT NULL THEN m.last_id ELSE m.last_id - 3 END
FROM bench_chats b, (SELECT chat_id, max(id) AS last_id FROM chat_messages GROUP BY chat_id) m
WHERE b.id = c.id AND m.chat_id = c.id AND b.h / 17 % 5 <> 0;
