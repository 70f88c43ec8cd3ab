import type { ChatRow, MessageRow } from '../db/models.js';
import type { Viewer } from './viewer.js';

/**
 * Who may read what, in one place: every read path (queries, loaders, subscriptions, mutations
 * that look a chat up) asks these, so the rules cannot drift apart.
 */

/** Whether `viewer` may read a chat: its owner, an admin, or a worker that runs chats. */
export function canRead(viewer: Viewer | null, chat: Pick<ChatRow, 'owner_id'>): boolean {
  return viewer !== null && (chat.owner_id === viewer.user.id || viewer.isAdmin || viewer.isWorker);
}

/** Whether `viewer` may read model-only messages (prompt scaffolding, summaries): workers and admins, never plain users. */
export function seesModelOnly(viewer: Viewer | null): boolean {
  return viewer !== null && (viewer.isAdmin || viewer.isWorker);
}

/** Whether `viewer` may see this message (model-only content is not part of the transcript users see). */
export function seesMessage(viewer: Viewer | null, message: Pick<MessageRow, 'visibility'> | null): boolean {
  return message !== null && (message.visibility !== 'model' || seesModelOnly(viewer));
}
