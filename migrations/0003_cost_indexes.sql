-- Cost analytics (DESIGN rule 16) read one user's assistant messages in a time range. The
-- 0001 index (created_at, chat_id) walks the range for every user at once; a per-user summary
-- instead walks the user's chats (chats_owner_updated_idx) and, per chat, only its assistant
-- messages in the range. INCLUDE carries every column the totals read, so that walk is an
-- index-only scan: measured in bench/costs.ts on 750k messages, the 30-day summary of a user with
-- 100k messages reads ~2.2k index pages instead of ~17k heap pages (content jsonb makes heap rows
-- wide). Rows not yet marked all-visible by (auto)vacuum are fetched from the heap, still correct.
-- The price: a wider index written on every assistant-message insert (not on user messages).
-- It also serves Chat.cost (all assistant messages of a family) the same way.
CREATE INDEX chat_messages_chat_assistant_cost_idx ON chat_messages (chat_id, created_at)
  INCLUDE (model_config_id, total_cost_micros, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, runtime_ms)
  WHERE role = 'assistant';
