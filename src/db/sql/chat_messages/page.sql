-- One keyset page of a chat's transcript as the user sees it: visible to users, not edited away.
SELECT m.* FROM chat_messages m
WHERE m.chat_id = ${chatId} AND NOT m.deleted AND m.visibility <> 'model' AND ${keyset:raw}
ORDER BY ${order:raw}
LIMIT ${limit}
