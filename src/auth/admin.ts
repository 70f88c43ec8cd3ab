import type { Db } from '../db/index.js';
import type { ApiTokenRow, UserRow } from '../db/models.js';
import { generateToken, SCOPES, type Scope } from './tokens.js';

/** A user-facing failure of an admin command (printed as one line, exit 1). */
export class CommandError extends Error {}

/** Creates a user; rejects a taken or malformed username. */
export async function createUser(db: Db, input: { username: string; name?: string; isAdmin?: boolean }): Promise<UserRow> {
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(input.username)) {
    throw new CommandError('username must be 1-64 characters of a-z, 0-9, _ or -, starting with a letter or digit');
  }
  if (await db.users.byUsername(input.username)) throw new CommandError(`user "${input.username}" already exists`);
  return db.users.create(input);
}

/** Issues a token for `username`; the plain token is returned once and only its hash is stored. */
export async function createToken(
  db: Db,
  input: { username: string; scopes?: string[]; expiresInMs?: number | null; name?: string },
): Promise<{ token: string; row: ApiTokenRow }> {
  const user = await db.users.byUsername(input.username);
  if (!user) throw new CommandError(`no user "${input.username}"`);
  const scopes = [...new Set(input.scopes && input.scopes.length > 0 ? input.scopes : ['user'])];
  const bad = scopes.filter((s) => !SCOPES.includes(s as Scope));
  if (bad.length > 0) throw new CommandError(`unknown scope ${bad.join(', ')} (use ${SCOPES.join(', ')})`);
  if (scopes.includes('admin') && !user.is_admin) throw new CommandError(`user "${user.username}" is not an admin; the admin scope needs one`);
  const { id, token, secretHash } = generateToken();
  const expiresAt = input.expiresInMs ? new Date(Date.now() + input.expiresInMs) : null;
  const row = await db.apiTokens.create({ id, userId: user.id, name: input.name ?? '', secretHash, scopes, expiresAt });
  return { token, row };
}

export async function listTokens(db: Db, username: string): Promise<ApiTokenRow[]> {
  const user = await db.users.byUsername(username);
  if (!user) throw new CommandError(`no user "${username}"`);
  return db.apiTokens.listForUser(user.id);
}

export async function revokeToken(db: Db, tokenId: string): Promise<void> {
  if (!/^[0-9a-f-]{36}$/i.test(tokenId)) throw new CommandError('token id must be a uuid (see `token list`)');
  if (!(await db.apiTokens.revoke(tokenId))) throw new CommandError(`no live token ${tokenId}`);
}
