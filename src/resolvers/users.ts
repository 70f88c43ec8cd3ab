import type { Context } from '../context.js';
import type { UserRow } from '../db/repos/users.js';

/** The authenticated user (the field is behind the `authenticated` scope). */
export function viewer(_args: unknown, ctx: Context): UserRow {
  return ctx.viewer!.user;
}

/** Batch: users by id, in any order (the loader sorts). */
export function loadUsers(ids: readonly string[], ctx: Context): Promise<UserRow[]> {
  return ctx.db.users.byIds(ids);
}
