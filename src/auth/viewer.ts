import type { Db } from '../db/index.js';
import type { UserRow } from '../db/models.js';
import { parseToken, secretMatches, type Scope } from './tokens.js';
import type { ViewerCache } from './viewerCache.js';

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

/** last_used_at is kept to the minute: no write (not even a statement) on most requests. */
function touchAtMostEveryMinute(db: Db, tokenId: string, lastUsed: number, now: number): boolean {
  if (now - lastUsed <= 60_000) return false;
  void db.apiTokens.touch(tokenId).catch(() => undefined);
  return true;
}

/**
 * Resolves a token to a viewer; throws AuthError with the precise reason. With a `cache`, a
 * token seen within its TTL costs no statement (see viewerCache.ts for what that delays).
 */
export async function authenticate(db: Db, token: string | null, cache?: ViewerCache<Viewer>): Promise<Viewer> {
  if (token === null) throw new AuthError('missing');
  const now = Date.now();
  const hit = cache?.get(token, now);
  if (hit) {
    if (touchAtMostEveryMinute(db, hit.viewer.tokenId, hit.lastUsedAt, now)) hit.lastUsedAt = now;
    return hit.viewer;
  }
  const parsed = parseToken(token);
  if (!parsed) throw new AuthError('malformed');
  const row = await db.apiTokens.findWithUser(parsed.id);
  if (!row || !secretMatches(parsed.secret, row.secret_hash)) throw new AuthError('unknown');
  if (row.revoked_at) throw new AuthError('revoked');
  if (row.expires_at && row.expires_at.getTime() <= Date.now()) throw new AuthError('expired');
  let lastUsed = row.last_used_at ? new Date(row.last_used_at).getTime() : 0;
  if (touchAtMostEveryMinute(db, row.id, lastUsed, now)) lastUsed = now;
  const scopes = new Set(row.scopes as Scope[]);
  const user: UserRow = { ...row.user, created_at: new Date(row.user.created_at) };
  const viewer: Viewer = {
    user,
    tokenId: row.id,
    scopes,
    isAdmin: user.is_admin && scopes.has('admin'),
    isWorker: scopes.has('worker'),
  };
  cache?.set(token, viewer, row.expires_at, lastUsed, now);
  return viewer;
}
