-- Spend of each chat plus its children: assistant messages, soft-deleted (edited-away) ones included.
SELECT k.id, ${totals}
FROM unnest(${ids}::uuid[]) AS k(id)
LEFT JOIN chats c ON c.id = k.id OR c.parent_chat_id = k.id
LEFT JOIN chat_messages m ON m.chat_id = c.id AND m.role = 'assistant'
GROUP BY k.id
