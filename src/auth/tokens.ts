import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

/** What a token may do: `user` drives the owner's chats, `worker` runs chats, `admin` reads all and manages models. */
export type Scope = 'user' | 'worker' | 'admin';
export const SCOPES: readonly Scope[] = ['user', 'worker', 'admin'];

/**
 * Token format: `cg_<token id, 32 hex>_<secret, 43 base64url chars>`.
 * The id locates the row; only sha256(secret) is stored and compared in constant time, so
 * neither a database read nor response timing reveals a usable secret.
 */
const TOKEN_RE = /^cg_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface ParsedToken {
  id: string;
  secret: string;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Makes a new token id and secret; the plain token is returned once and never stored. */
export function generateToken(): { id: string; token: string; secretHash: Buffer } {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `cg_${id.replaceAll('-', '')}_${secret}`, secretHash: hashSecret(secret) };
}

/** Splits a bearer token into id and secret; null when it is not shaped like one of ours. */
export function parseToken(token: string): ParsedToken | null {
  const match = TOKEN_RE.exec(token);
  if (!match) return null;
  const hex = match[1]!;
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { id, secret: match[2]! };
}

export function secretMatches(secret: string, storedHash: Buffer): boolean {
  const candidate = hashSecret(secret);
  return storedHash.length === candidate.length && timingSafeEqual(candidate, storedHash);
}

/** Parses durations such as 30d, 12h, 45m, 90s. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!match) throw new Error(`invalid duration "${text}" (use e.g. 30d, 12h, 45m)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit * 1000;
}
