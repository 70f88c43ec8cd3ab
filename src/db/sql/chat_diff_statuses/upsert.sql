-- Diff status rule: writes every PR field of a chat's diff status (insert or full replace), so no stale field survives a refresh.
INSERT INTO chat_diff_statuses AS d (
  chat_id, url, pull_request_state, pull_request_title, pull_request_draft, changes_requested,
  additions, deletions, changed_files, author_login, author_avatar_url, base_branch, head_branch,
  pr_number, commits, approved, reviewer_count, refreshed_at, stale_at)
VALUES (
  ${chatId}, ${url}, ${pull_request_state}, ${pull_request_title}, ${pull_request_draft}, ${changes_requested},
  ${additions}, ${deletions}, ${changed_files}, ${author_login}, ${author_avatar_url}, ${base_branch}, ${head_branch},
  ${pr_number}, ${commits}, ${approved}, ${reviewer_count}, ${refreshed_at}, ${stale_at})
ON CONFLICT (chat_id) DO UPDATE SET
  url = EXCLUDED.url,
  pull_request_state = EXCLUDED.pull_request_state,
  pull_request_title = EXCLUDED.pull_request_title,
  pull_request_draft = EXCLUDED.pull_request_draft,
  changes_requested = EXCLUDED.changes_requested,
  additions = EXCLUDED.additions,
  deletions = EXCLUDED.deletions,
  changed_files = EXCLUDED.changed_files,
  author_login = EXCLUDED.author_login,
  author_avatar_url = EXCLUDED.author_avatar_url,
  base_branch = EXCLUDED.base_branch,
  head_branch = EXCLUDED.head_branch,
  pr_number = EXCLUDED.pr_number,
  commits = EXCLUDED.commits,
  approved = EXCLUDED.approved,
  reviewer_count = EXCLUDED.reviewer_count,
  refreshed_at = EXCLUDED.refreshed_at,
  stale_at = EXCLUDED.stale_at,
  updated_at = now()
RETURNING d.*
