import type { IDatabase, IMain } from 'pg-promise';
import { sql } from '../sql.js';
import type { UserRow } from '../models.js';

const queries = {
  create: sql('users/create.sql'),
  ensure: sql('users/ensure.sql'),
};

/** SQL for the users table. */
export class UsersRepository {
  constructor(private readonly db: IDatabase<unknown>, private readonly pgp: IMain) {}

  create(input: { username: string; name?: string; isAdmin?: boolean; avatarUrl?: string | null }): Promise<UserRow> {
    return this.db.one(
      queries.create,
      // Explicit fallbacks, not a spread of defaults: an absent CLI flag arrives as `undefined`.
      { username: input.username, name: input.name ?? '', isAdmin: input.isAdmin ?? false, avatarUrl: input.avatarUrl ?? null },
    );
  }

  /** Inserts unless the username exists; returns the existing or new row. */
  ensure(input: { username: string; name: string; isAdmin: boolean; avatarUrl?: string | null }): Promise<UserRow> {
    return this.db.one(queries.ensure, { avatarUrl: null, ...input });
  }

  byUsername(username: string): Promise<UserRow | null> {
    return this.db.oneOrNone('SELECT * FROM users WHERE username = $1', [username]);
  }

  /** Rows for `ids`, in no particular order (loaders reorder). */
  byIds(ids: readonly string[]): Promise<UserRow[]> {
    return this.db.any('SELECT * FROM users WHERE id = ANY($1::uuid[])', [ids]);
  }
}
