-- Records use of a token at most once a minute, so a hot token does not rewrite its row per request.
UPDATE api_tokens SET last_used_at = now()
WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
