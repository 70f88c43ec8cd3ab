-- A token by id together with its owner, for bearer authentication.
SELECT t.*, to_jsonb(u) AS "user"
FROM api_tokens t
JOIN users u ON u.id = t.user_id
WHERE t.id = ${id}
