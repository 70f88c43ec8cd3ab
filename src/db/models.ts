/**
 * The row types of every table (and of the few composite rows the repositories return), in
 * one place: repositories, resolvers and the event pipeline import them from here. bigint and
 * numeric columns arrive as strings (exact counts, prices and ids).
 */

/** A row of `users`. */
export interface UserRow {
  id: string;
  username: string;
  name: string;
  avatar_url: string | null;
  is_admin: boolean;
  created_at: Date;
}

/** A row of `api_tokens` (never carries the secret). */
export interface ApiTokenRow {
  id: string;
  user_id: string;
  name: string;
  secret_hash: Buffer;
  scopes: string[];
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

export type TokenWithUser = ApiTokenRow & { user: UserRow };

/** A row of `chat_model_configs`; prices are exact decimal strings (USD per 1M tokens) or null. */
export interface ModelConfigRow {
  id: string;
  provider: string;
  model: string;
  display_name: string;
  enabled: boolean;
  is_default: boolean;
  deleted: boolean;
  deleted_at: Date | null;
  context_limit: string;
  compression_threshold: number;
  input_price: string | null;
  output_price: string | null;
  cache_read_price: string | null;
  cache_write_price: string | null;
  created_at: Date;
  updated_at: Date;
}

export type ChatStatus = 'waiting' | 'pending' | 'running' | 'paused' | 'completed' | 'error' | 'requires_action';

/** A row of `chats` plus `updated_us`, updated_at in exact microseconds (the keyset cursor). */
export interface ChatRow {
  id: string;
  owner_id: string;
  workspace_id: string | null;
  title: string;
  status: ChatStatus;
  worker_id: string | null;
  started_at: Date | null;
  heartbeat_at: Date | null;
  parent_chat_id: string | null;
  root_chat_id: string | null;
  last_model_config_id: string;
  archived: boolean;
  pin_order: number;
  labels: Record<string, unknown>;
  last_error: string | null;
  last_read_message_id: string | null;
  created_at: Date;
  updated_at: Date;
  updated_us: string;
  /** Increases with every change to the chat's state, queue or diff status (bigint, so a string). */
  version: string;
}

/** A row of `chat_diff_statuses`. */
export interface DiffStatusRow {
  chat_id: string;
  url: string | null;
  pull_request_state: 'open' | 'closed' | 'merged' | null;
  pull_request_title: string;
  pull_request_draft: boolean;
  changes_requested: boolean;
  additions: number;
  deletions: number;
  changed_files: number;
  author_login: string | null;
  author_avatar_url: string | null;
  base_branch: string | null;
  head_branch: string | null;
  pr_number: number | null;
  commits: number | null;
  approved: boolean | null;
  reviewer_count: number | null;
  refreshed_at: Date | null;
  stale_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A row of `chat_queued_messages`. */
export interface QueuedMessageRow {
  id: string;
  chat_id: string;
  content: unknown;
  model_config_id: string | null;
  created_by: string | null;
  created_at: Date;
}

export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';

export type MessageVisibility = 'user' | 'model' | 'both';

/** A row of `chat_messages` (bigint columns arrive as strings). */
export interface MessageRow {
  id: string;
  chat_id: string;
  role: MessageRole;
  visibility: MessageVisibility;
  content: unknown;
  content_version: number;
  model_config_id: string | null;
  created_by: string | null;
  input_tokens: string | null;
  output_tokens: string | null;
  total_tokens: string | null;
  reasoning_tokens: string | null;
  cache_creation_tokens: string | null;
  cache_read_tokens: string | null;
  context_limit: string | null;
  total_cost_micros: string | null;
  runtime_ms: string | null;
  compressed: boolean;
  deleted: boolean;
  created_at: Date;
}

/** Everything the dashboard shows beside a chat row, fetched for a batch of chats in one statement. */
export interface ChatExtrasRow {
  id: string;
  diff_status: DiffStatusRow | null;
  queued: QueuedMessageRow[];
  children: ChatRow[];
  /** The last assistant message's content, unless it is version 1 (then see last_assistant_text). */
  last_assistant_content: unknown;
  /** Version 1: its text parts joined by newlines, first 2000 characters (null: no text parts). */
  last_assistant_text: string | null;
  last_assistant_version: number | null;
  has_unread: boolean;
}

/** Spend of a chat and its children (assistant messages, edited-away ones included). */
export interface CostTotalsRow {
  total_cost_micros: string;
  priced_message_count: number;
  unpriced_message_count: number;
  total_input_tokens: string;
  total_output_tokens: string;
  total_cache_read_tokens: string;
  total_cache_creation_tokens: string;
  total_runtime_ms: string;
  message_count: number;
}

/** A page row: the chat, its model config, and the filter's total when it was asked for. */
export interface ChatPageRow extends ChatRow {
  model_config: ModelConfigRow;
  total_count: number | null;
}
