-- chat_events.kind is a closed list: the kinds the watch triggers write, which src/events/log.ts
-- lists as CHAT_EVENT_KINDS and MODEL_CONFIG_EVENT_KINDS (test/events-kinds.test.ts pins the
-- three together). Chat kinds carry the chat and its owner; model-config kinds are global.
ALTER TABLE chat_events ADD CONSTRAINT chat_events_kind_check CHECK (
  (kind IN ('chat_created', 'status', 'title', 'model_config', 'chat_archived', 'chat_unarchived',
            'message', 'message_deleted', 'queue', 'diff_status')
    AND chat_id IS NOT NULL AND owner_id IS NOT NULL)
  OR
  (kind IN ('model_config_created', 'model_config_updated', 'model_config_deleted', 'model_config_default_changed')
    AND chat_id IS NULL AND owner_id IS NULL AND model_config_id IS NOT NULL)
);
