-- A new token row (the secret is stored only as its hash).
INSERT INTO api_tokens (id, user_id, name, secret_hash, scopes, expires_at)
VALUES (${id}, ${userId}, ${name}, ${secretHash}, ${scopes}::text[], ${expiresAt})
RETURNING *
