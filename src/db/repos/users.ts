import type { IDatabase, IMain } from 'pg-promise';
import type { UserRow } from '../models.js';

/** SQL for the users table. */
export class UsersRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  create(input: { username: string; name?: string; isAdmin?: boolean; avatarUrl?: string | null }): Promise<UserRow> {
    return this.db.one(
      `INSERT INTO users (username, name, is_admin, avatar_url)
       VALUES ($(username), $(name), $(isAdmin), $(avatarUrl)) RETURNING *`,
      // Explicit fallbacks, not a spread of defaults: an absent CLI flag arrives as `undefined`.
      { username: input.username, name: input.name ?? '', isAdmin: input.isAdmin ?? false, avatarUrl: input.avatarUrl ?? null },
    );
  }

  /** Inserts unless the username exists; returns the existing or new row. */
  ensure(input: { username: string; name: string; isAdmin: boolean; avatarUrl?: string | null }): Promise<UserRow> {
    return this.db.one(
      `WITH ins AS (
         INSERT INTO users (username, name, is_admin, avatar_url)
         VALUES ($(username), $(name), $(isAdmin), $(avatarUrl))
         ON CONFLICT (username) DO NOTHING RETURNING *)
       SELECT * FROM ins UNION ALL SELECT * FROM users WHERE username = $(username) LIMIT 1`,
      { avatarUrl: null, ...input },
    );
  }

  byUsername(username: string): Promise<UserRow | null> {
    return this.db.oneOrNone('SELECT * FROM users WHERE username = $1', [username]);
  }

  /** Rows for `ids`, in no particular order (loaders reorder). */
  byIds(ids: readonly string[]): Promise<UserRow[]> {
    return this.db.any('SELECT * FROM users WHERE id = ANY($1::uuid[])', [ids]);
  }
}
