-- A new user (a taken username fails on the unique index).
INSERT INTO users (username, name, is_admin, avatar_url)
VALUES (${username}, ${name}, ${isAdmin}, ${avatarUrl})
RETURNING *
