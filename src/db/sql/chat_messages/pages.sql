-- One keyset page of each chat's transcript as the user sees it (visible to users, not edited away), for a batch of chats in one statement: a LIMITed index scan per chat.
SELECT m.* FROM unnest(${chatIds}::uuid[]) AS k(chat_id)
CROSS JOIN LATERAL (
  SELECT m.* FROM chat_messages m
  WHERE m.chat_id = k.chat_id AND NOT m.deleted AND m.visibility <> 'model' AND ${keyset:raw}
  ORDER BY ${order:raw}
  LIMIT ${limit}
) m
ORDER BY m.chat_id, ${order:raw}
