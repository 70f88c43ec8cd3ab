import type { Db } from '../db/index.js';
import type { UserRow } from '../db/models.js';
import { parseToken, secretMatches, type Scope } from './tokens.js';

/** The authenticated caller of a request or WebSocket operation. */
export interface Viewer {
  user: UserRow;
  tokenId: string;
  scopes: ReadonlySet<Scope>;
  /** Admin powers need both an admin user and a token carrying the admin scope. */
  isAdmin: boolean;
  isWorker: boolean;
}

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';

export class AuthError extends Error {
  constructor(readonly reason: AuthFailure) {
    super(
      {
        missing: 'Authentication required: send Authorization: Bearer <token>',
        malformed: 'Invalid token',
        unknown: 'Invalid token',
        expired: 'Token expired',
        revoked: 'Token revoked',
      }[reason],
    );
    this.name = 'AuthError';
  }
}

/** Extracts the token from an `Authorization: Bearer …` header value. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : '';
}

/** Resolves a token to a viewer; throws AuthError with the precise reason. */
export async function authenticate(db: Db, token: string | null): Promise<Viewer> {
  if (token === null) throw new AuthError('missing');
  const parsed = parseToken(token);
  if (!parsed) throw new AuthError('malformed');
  const row = await db.apiTokens.findWithUser(parsed.id);
  if (!row || !secretMatches(parsed.secret, row.secret_hash)) throw new AuthError('unknown');
  if (row.revoked_at) throw new AuthError('revoked');
  if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw new AuthError('expired');
  // last_used_at is kept to the minute: no write (not even a statement) on most requests.
  const lastUsed = row.last_used_at ? new Date(row.last_used_at).getTime() : 0;
  if (Date.now() - lastUsed > 60_000) void db.apiTokens.touch(row.id).catch(() => undefined);
  const scopes = new Set(row.scopes as Scope[]);
  const user: UserRow = { ...row.user, created_at: new Date(row.user.created_at) };
  return {
    user,
    tokenId: row.id,
    scopes,
    isAdmin: user.is_admin && scopes.has('admin'),
    isWorker: scopes.has('worker'),
  };
}
