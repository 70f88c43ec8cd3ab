-- Chat.hasUnread: a user-visible assistant message newer than the chat's read marker.
EXISTS (SELECT 1 FROM chat_messages u
        WHERE u.chat_id = c.id AND u.role = 'assistant' AND NOT u.deleted AND u.visibility <> 'model'
          AND u.id > COALESCE(c.last_read_message_id, 0)) AS has_unread
