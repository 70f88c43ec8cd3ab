-- A new chat; a sub-agent names its parent and the family's root.
INSERT INTO chats (owner_id, title, workspace_id, labels, last_model_config_id, status, parent_chat_id, root_chat_id)
VALUES (${ownerId}, ${title}, ${workspaceId}, ${labels}::jsonb, ${modelConfigId}, ${status}, ${parentChatId}, ${rootChatId})
RETURNING *, (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us
