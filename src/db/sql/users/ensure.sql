-- Inserts a user unless the username exists, and returns the new or the existing row.
WITH ins AS (
  INSERT INTO users (username, name, is_admin, avatar_url)
  VALUES (${username}, ${name}, ${isAdmin}, ${avatarUrl})
  ON CONFLICT (username) DO NOTHING RETURNING *)
SELECT * FROM ins UNION ALL SELECT * FROM users WHERE username = ${username} LIMIT 1
