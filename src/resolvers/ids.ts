const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROW_ID_RE = /^[1-9]\d{0,18}$/;

/** A textual UUID (chats, users, model configs, workspaces). */
export const isUuid = (value: string): boolean => UUID_RE.test(value);

/** A bigserial row id as text (messages, queued messages). */
export const isRowId = (value: string): boolean => ROW_ID_RE.test(value);
