-- chatgraph data model (DESIGN section 3). Names follow the Coder chats schema where one exists.

CREATE TYPE chat_status AS ENUM (
  'waiting', 'pending', 'running', 'paused', 'completed', 'error', 'requires_action'
);
CREATE TYPE chat_message_role AS ENUM ('system', 'user', 'assistant', 'tool');
CREATE TYPE chat_message_visibility AS ENUM ('user', 'model', 'both');
CREATE TYPE pull_request_state AS ENUM ('open', 'closed', 'merged');

CREATE TABLE users (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username    text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
  name        text NOT NULL DEFAULT '',
  avatar_url  text,
  is_admin    boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE users IS 'People who own chats; admins may read everything and manage model configs.';

CREATE TABLE api_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name          text NOT NULL DEFAULT '',
  secret_hash   bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
  scopes        text[] NOT NULL DEFAULT '{user}'
                CHECK (scopes <@ ARRAY['user', 'worker', 'admin']::text[] AND cardinality(scopes) > 0),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);
COMMENT ON TABLE api_tokens IS 'Bearer tokens: only the sha256 of the secret is stored; the secret is shown once.';

CREATE TABLE chat_model_configs (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider               text NOT NULL CHECK (provider <> ''),
  model                  text NOT NULL CHECK (model <> ''),
  display_name           text NOT NULL DEFAULT '',
  enabled                boolean NOT NULL DEFAULT true,
  is_default             boolean NOT NULL DEFAULT false,
  deleted                boolean NOT NULL DEFAULT false,
  deleted_at             timestamptz,
  context_limit          bigint NOT NULL CHECK (context_limit > 0),
  compression_threshold  integer NOT NULL DEFAULT 70 CHECK (compression_threshold BETWEEN 0 AND 100),
  input_price            numeric CHECK (input_price >= 0),
  output_price           numeric CHECK (output_price >= 0),
  cache_read_price       numeric CHECK (cache_read_price >= 0),
  cache_write_price      numeric CHECK (cache_write_price >= 0),
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
-- At most one live default.
CREATE UNIQUE INDEX chat_model_configs_one_default_idx ON chat_model_configs (is_default)
  WHERE is_default AND NOT deleted;
COMMENT ON TABLE chat_model_configs IS 'Models a chat can run on, with prices in USD per 1M tokens (NULL = unpriced, 0 = free).';

CREATE TABLE chats (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  workspace_id          uuid,
  title                 text NOT NULL DEFAULT 'New Chat',
  status                chat_status NOT NULL DEFAULT 'pending',
  worker_id             text,
  started_at            timestamptz,
  heartbeat_at          timestamptz,
  parent_chat_id        uuid REFERENCES chats (id) ON DELETE CASCADE,
  root_chat_id          uuid REFERENCES chats (id) ON DELETE CASCADE,
  last_model_config_id  uuid NOT NULL REFERENCES chat_model_configs (id) ON DELETE RESTRICT,
  archived              boolean NOT NULL DEFAULT false,
  pin_order             integer NOT NULL DEFAULT 0,
  labels                jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(labels) = 'object'),
  last_error            text,
  last_read_message_id  bigint,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  -- A child (sub-agent) chat names both its parent and its root; a root names neither.
  CHECK ((parent_chat_id IS NULL) = (root_chat_id IS NULL))
);
CREATE INDEX chats_owner_updated_idx ON chats (owner_id, updated_at DESC, id DESC);
CREATE INDEX chats_updated_idx ON chats (updated_at DESC, id DESC);
CREATE INDEX chats_root_chat_id_idx ON chats (root_chat_id) WHERE root_chat_id IS NOT NULL;
CREATE INDEX chats_parent_chat_id_idx ON chats (parent_chat_id) WHERE parent_chat_id IS NOT NULL;
CREATE INDEX chats_pending_idx ON chats (updated_at) WHERE status = 'pending' AND NOT archived;
CREATE INDEX chats_running_heartbeat_idx ON chats (heartbeat_at) WHERE status = 'running';
CREATE INDEX chats_labels_idx ON chats USING gin (labels jsonb_path_ops);
COMMENT ON TABLE chats IS 'Agent chats; children (sub-agents) point at their parent and root, depth at most 1.';

CREATE TABLE chat_messages (
  id                     bigserial PRIMARY KEY,
  chat_id                uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  role                   chat_message_role NOT NULL,
  visibility             chat_message_visibility NOT NULL DEFAULT 'both',
  content                jsonb NOT NULL,
  content_version        smallint NOT NULL,
  model_config_id        uuid REFERENCES chat_model_configs (id) ON DELETE SET NULL,
  created_by             uuid REFERENCES users (id) ON DELETE SET NULL,
  input_tokens           bigint,
  output_tokens          bigint,
  total_tokens           bigint,
  reasoning_tokens       bigint,
  cache_creation_tokens  bigint,
  cache_read_tokens      bigint,
  context_limit          bigint,
  total_cost_micros      bigint,
  runtime_ms             bigint,
  compressed             boolean NOT NULL DEFAULT false,
  deleted                boolean NOT NULL DEFAULT false,
  created_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_messages_chat_id_idx ON chat_messages (chat_id, id);
-- Cost analytics scan assistant messages by time.
CREATE INDEX chat_messages_assistant_created_idx ON chat_messages (created_at, chat_id)
  WHERE role = 'assistant';
COMMENT ON TABLE chat_messages IS 'Chat transcript; edits soft-delete (deleted = true) instead of removing spend.';

CREATE TABLE chat_queued_messages (
  id               bigserial PRIMARY KEY,
  chat_id          uuid NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  content          jsonb NOT NULL,
  model_config_id  uuid REFERENCES chat_model_configs (id) ON DELETE SET NULL,
  created_by       uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_queued_messages_chat_id_idx ON chat_queued_messages (chat_id, id);
COMMENT ON TABLE chat_queued_messages IS 'Messages sent while a chat was busy, promoted FIFO with the model chosen at enqueue time.';

CREATE TABLE chat_diff_statuses (
  chat_id             uuid PRIMARY KEY REFERENCES chats (id) ON DELETE CASCADE,
  url                 text,
  pull_request_state  pull_request_state,
  pull_request_title  text NOT NULL DEFAULT '',
  pull_request_draft  boolean NOT NULL DEFAULT false,
  changes_requested   boolean NOT NULL DEFAULT false,
  additions           integer NOT NULL DEFAULT 0,
  deletions           integer NOT NULL DEFAULT 0,
  changed_files       integer NOT NULL DEFAULT 0,
  author_login        text,
  author_avatar_url   text,
  base_branch         text,
  head_branch         text,
  pr_number           integer,
  commits             integer,
  approved            boolean,
  reviewer_count      integer,
  refreshed_at        timestamptz,
  stale_at            timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE chat_diff_statuses IS 'Pull-request state of the branch a chat works on, upserted by the worker.';

-- The durable change log behind the watch stream (DESIGN section 6), written by triggers.
-- xid is the writing transaction's id: replay delivers only events of transactions below the
-- reader's snapshot xmin, ordered by (xid, seq), so a late commit can delay but never be skipped.
CREATE TABLE chat_events (
  seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid              xid8 NOT NULL DEFAULT pg_current_xact_id(),
  kind             text NOT NULL,
  chat_id          uuid,
  owner_id         uuid,
  model_config_id  uuid,
  message_id       bigint,
  data             jsonb,
  occurred_at      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX chat_events_xid_seq_idx ON chat_events (xid, seq);
CREATE INDEX chat_events_occurred_at_idx ON chat_events (occurred_at);
COMMENT ON TABLE chat_events IS 'Change log behind chatWatch/chatEvents/modelConfigChanged; pruned after the retention window.';
