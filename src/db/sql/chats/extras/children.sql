-- Chat.children: sub-agent chats oldest first, with their sort key and read marker as text.
COALESCE((SELECT jsonb_agg(to_jsonb(ch) || jsonb_build_object(
                   'updated_us', ((extract(epoch FROM ch.updated_at) * 1000000)::bigint)::text,
                   'last_read_message_id', ch.last_read_message_id::text)
                 ORDER BY ch.created_at, ch.id)
          FROM chats ch WHERE ch.parent_chat_id = c.id), '[]') AS children
