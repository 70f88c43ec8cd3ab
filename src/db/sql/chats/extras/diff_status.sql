-- Chat.diffStatus: the chat's pull-request status row as jsonb (null without one).
(SELECT to_jsonb(d) FROM chat_diff_statuses d WHERE d.chat_id = c.id) AS diff_status
