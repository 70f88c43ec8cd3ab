-- Cost analytics (DESIGN rule 16) read one user's assistant messages in a time range. The
-- 0001 index (created_at, chat_id) serves ranges over every user (the admin rollup); a per-user
-- summary instead walks the user's chats (chats_owner_updated_idx) and needs, per chat, only its
-- assistant messages in the range: without this index it reads every message of every chat.
-- It also serves Chat.cost (all assistant messages of a family), which no longer touches user
-- and tool rows.
CREATE INDEX chat_messages_chat_assistant_created_idx ON chat_messages (chat_id, created_at)
  WHERE role = 'assistant';
