import { createToken, createUser } from '../../src/auth/admin.js';
import type { Db } from '../../src/db/index.js';
import type { UserRow } from '../../src/db/models.js';

export interface TestUser {
  user: UserRow;
  token: string;
}

let counter = 0;

/** A new user with a token carrying `scopes` (admin users get user+admin by default). */
export async function makeUser(
  db: Db,
  options: { username?: string; admin?: boolean; scopes?: string[]; expiresInMs?: number } = {},
): Promise<TestUser> {
  const username = options.username ?? `user${process.pid}x${++counter}`;
  const user = await createUser(db, { username, name: `Test ${username}`, isAdmin: options.admin ?? false });
  const scopes = options.scopes ?? (options.admin ? ['user', 'admin'] : ['user']);
  const { token } = await createToken(db, { username, scopes, expiresInMs: options.expiresInMs });
  return { user, token };
}
