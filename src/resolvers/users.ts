import type { Context } from '../context.js';
import type { UserRow } from '../db/models.js';

/** The authenticated user (the field is behind the `authenticated` scope). */
export function viewer(_args: unknown, ctx: Context): UserRow {
  return ctx.viewer!.user;
}

/** A user by id through the request's loader (null when absent). */
export function user(id: string | null, ctx: Context): Promise<UserRow | null> {
  return id ? ctx.loaders.user.load(id) : Promise.resolve(null);
}
