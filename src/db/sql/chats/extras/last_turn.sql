-- Chat.lastTurnSummary: the last live assistant message users can see (no model-only content) as
-- {version, content, text} (null without one).
-- Version-1 turns send only the head of their text parts (the summary needs 200 characters; whole
-- transcripts would dominate the page's bytes); other versions go to the parser whole.
(SELECT jsonb_build_object(
          'version', la.content_version,
          'content', CASE WHEN la.version1 THEN NULL ELSE la.content END,
          'text', CASE WHEN la.version1 THEN (SELECT left(string_agg(p->>'text', E'\n' ORDER BY o), 2000)
                                              FROM jsonb_array_elements(la.content) WITH ORDINALITY AS e(p, o)
                                              WHERE p->>'type' = 'text') END)
 FROM (SELECT m.content, m.content_version, (m.content_version = 1 AND jsonb_typeof(m.content) = 'array') AS version1
       FROM chat_messages m
       WHERE m.chat_id = c.id AND m.role = 'assistant' AND NOT m.deleted AND m.visibility <> 'model'
       ORDER BY m.id DESC LIMIT 1) la) AS last_turn
