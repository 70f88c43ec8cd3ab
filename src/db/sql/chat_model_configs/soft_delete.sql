-- Soft-deletes a live config (history still names it); it stops being the default too.
UPDATE chat_model_configs SET deleted = true, deleted_at = now(), is_default = false, updated_at = now()
WHERE id = ${id} AND NOT deleted
RETURNING *
