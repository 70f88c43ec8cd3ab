-- Cumulative row-write counters of chats and chat_messages (pg_stat_user_tables), to prove which statements rewrote chats rows.
SELECT
  (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = 'chats'::regclass)::bigint AS chats_updated,
  (SELECT n_tup_ins FROM pg_stat_user_tables WHERE relid = 'chat_messages'::regclass)::bigint AS messages_inserted
