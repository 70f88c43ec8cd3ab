import { GraphQLError } from 'graphql';
import { AuthError, authenticate, bearerToken, type Viewer } from './auth/viewer.js';
import type { Config } from './config.js';
import type { Db } from './db/index.js';

/** Long-lived services shared by every request of one server. */
export interface AppServices {
  db: Db;
  config: Config;
}

/** Per-request (or per WebSocket operation) context. Loaders live here, never at module scope. */
export interface Context extends AppServices {
  viewer: Viewer | null;
}

/** The 401 answer for a token that is present but unusable (unknown, expired, revoked). */
export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

/**
 * Resolves the viewer from a bearer token. No token means an anonymous context (introspection
 * works, protected fields answer UNAUTHENTICATED); a bad token fails the whole request.
 */
export async function createContext(services: AppServices, token: string | null): Promise<Context> {
  if (token === null) return { ...services, viewer: null };
  try {
    return { ...services, viewer: await authenticate(services.db, token) };
  } catch (err) {
    if (err instanceof AuthError) throw unauthenticated(err.message);
    throw err;
  }
}

/** Reads the token of an HTTP request. */
export function tokenFromRequest(request: Request): string | null {
  return bearerToken(request.headers.get('authorization'));
}
