-- The tool-result deadline (TOOL_RESULT_TIMEOUT_SECONDS) looks for chats left in
-- requires_action since before a cutoff, every minute on every replica: a partial index keeps
-- that lookup off the rest of the table.
CREATE INDEX chats_requires_action_idx ON chats (updated_at) WHERE status = 'requires_action';

COMMENT ON TABLE chats IS 'Agent chats; sub-agents point at their parent and the family root and nest at most 4 levels below it (enforced by createChildChat).';
