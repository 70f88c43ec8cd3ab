-- Appends a message to a chat's queue (the caller holds the chat row lock).
INSERT INTO chat_queued_messages (chat_id, content, model_config_id, created_by)
VALUES (${chatId}, ${content}::jsonb, ${modelConfigId}, ${createdBy})
RETURNING *
