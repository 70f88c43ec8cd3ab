-- The hand-written floor: token check, one keyset page of the viewer's root chats and every relation the dashboard shows, as the GraphQL-shaped response body (one statement, one json text).
-- Parameters: $1 token id, $2 sha256 of the secret, $3 page size (a named prepared statement in bench/servers/floor.ts).
-- Ids, cursors, enums, timestamps and decimal strings are encoded exactly as chatgraph encodes them, so the bench can compare the two bodies; only lastTurnSummary is finished in node (raw text here).
WITH viewer AS (
  SELECT t.user_id FROM api_tokens t
  WHERE t.id = $1::uuid AND t.secret_hash = $2::bytea AND t.revoked_at IS NULL
    AND (t.expires_at IS NULL OR t.expires_at > now())
), page AS (
  -- One row past the page tells whether there is a next page.
  SELECT c.*, row_number() OVER (ORDER BY c.updated_at DESC, c.id DESC) AS rn
  FROM chats c
  WHERE c.owner_id = (SELECT user_id FROM viewer) AND NOT c.archived AND c.parent_chat_id IS NULL
  ORDER BY c.updated_at DESC, c.id DESC
  LIMIT $3::int + 1
), nodes AS (
  SELECT p.rn, p.id, p.updated_at, json_build_object(
    'id', encode(convert_to('Chat:' || p.id, 'UTF8'), 'base64'),
    'title', p.title,
    'status', upper(p.status::text),
    'lastError', p.last_error,
    'pinOrder', p.pin_order,
    'labels', p.labels,
    'updatedAt', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'lastModelConfig', json_build_object('displayName', mc.display_name, 'pricing', json_build_object(
      'inputPricePerMillionTokens', mc.input_price::text, 'outputPricePerMillionTokens', mc.output_price::text)),
    'diffStatus', (
      SELECT json_build_object('pullRequestState', upper(d.pull_request_state::text), 'pullRequestTitle', d.pull_request_title,
        'pullRequestDraft', d.pull_request_draft, 'headBranch', d.head_branch, 'additions', d.additions,
        'deletions', d.deletions, 'url', d.url)
      FROM chat_diff_statuses d WHERE d.chat_id = p.id),
    'queuedMessages', COALESCE((
      SELECT json_agg(json_build_object(
        'id', encode(convert_to('ChatQueuedMessage:' || q.id, 'UTF8'), 'base64'),
        'parts', (SELECT json_agg(CASE WHEN x.part ->> 'type' = 'text' THEN json_build_object('text', x.part ->> 'text') ELSE '{}'::json END
                                  ORDER BY x.ord)
                  FROM jsonb_array_elements(q.content) WITH ORDINALITY AS x(part, ord)),
        'modelConfig', (SELECT json_build_object('displayName', qm.display_name) FROM chat_model_configs qm WHERE qm.id = q.model_config_id))
        ORDER BY q.id)
      FROM chat_queued_messages q WHERE q.chat_id = p.id), '[]'),
    -- Rule 14 in two halves: Postgres joins the text parts of the last assistant message; node collapses
    -- whitespace and cuts at 200 characters (Postgres' regexp/translate cost ~70 µs per summary here,
    -- about 3.5 ms of database CPU per page, against a few µs in V8).
    'lastTurnSummary', (
      SELECT string_agg(x.part ->> 'text', E'\n' ORDER BY x.ord)
      FROM jsonb_array_elements(la.content) WITH ORDINALITY AS x(part, ord)
      WHERE x.part ->> 'type' = 'text'),
    'hasUnread', EXISTS (
      SELECT 1 FROM chat_messages u
      WHERE u.chat_id = p.id AND u.role = 'assistant' AND NOT u.deleted AND u.visibility <> 'model'
        AND u.id > COALESCE(p.last_read_message_id, 0)),
    -- Spend of the chat and its sub-agents: assistant messages, edited-away ones included.
    'cost', (
      SELECT json_build_object(
        'totalCostMicros', COALESCE(sum(m.total_cost_micros), 0)::text,
        'pricedMessageCount', count(*) FILTER (WHERE m.total_cost_micros IS NOT NULL),
        'unpricedMessageCount', count(*) FILTER (WHERE m.total_cost_micros IS NULL AND (COALESCE(m.input_tokens, 0)
          + COALESCE(m.output_tokens, 0) + COALESCE(m.cache_read_tokens, 0) + COALESCE(m.cache_creation_tokens, 0)) > 0),
        'totalCacheReadTokens', COALESCE(sum(m.cache_read_tokens), 0)::text)
      FROM chat_messages m
      WHERE m.chat_id = ANY (ARRAY(SELECT p.id UNION ALL SELECT ch.id FROM chats ch WHERE ch.parent_chat_id = p.id))
        AND m.role = 'assistant'),
    'children', COALESCE((
      SELECT json_agg(json_build_object('id', encode(convert_to('Chat:' || ch.id, 'UTF8'), 'base64'), 'title', ch.title,
                                        'status', upper(ch.status::text)) ORDER BY ch.created_at, ch.id)
      FROM chats ch WHERE ch.parent_chat_id = p.id), '[]')
  ) AS node
  FROM page p
  JOIN chat_model_configs mc ON mc.id = p.last_model_config_id
  LEFT JOIN LATERAL (
    SELECT m.content FROM chat_messages m
    WHERE m.chat_id = p.id AND m.role = 'assistant' AND NOT m.deleted
    ORDER BY m.id DESC LIMIT 1
  ) la ON true
  WHERE p.rn <= $3::int
)
SELECT json_build_object('data', json_build_object('chats', json_build_object(
  'totalCount', (SELECT count(*) FROM chats c
                 WHERE c.owner_id = v.user_id AND NOT c.archived AND c.parent_chat_id IS NULL),
  'pageInfo', json_build_object(
    'hasNextPage', (SELECT count(*) FROM page) > $3::int,
    'endCursor', (SELECT rtrim(translate(encode(convert_to(
                    'chat:' || (extract(epoch FROM n.updated_at) * 1000000)::bigint || ':' || n.id, 'UTF8'), 'base64'), E'+/\n', '-_'), '=')
                  FROM nodes n ORDER BY n.rn DESC LIMIT 1)),
  'nodes', COALESCE((SELECT json_agg(n.node ORDER BY n.rn) FROM nodes n), '[]'))))::text AS body
FROM viewer v
