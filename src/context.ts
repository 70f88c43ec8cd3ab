import { GraphQLError } from 'graphql';
import { AuthError, authenticate, bearerToken, type Viewer } from './auth/viewer.js';
import type { ViewerCache } from './auth/viewerCache.js';
import { ERROR_CODES } from './codes.js';
import type { Config } from './config.js';
import type { Db } from './db/index.js';
import type { MessagePartRelay } from './events/messageParts.js';
import { DatabaseUnavailableError, isConnectionError, readRetry, retryRead } from './db/retry.js';
import type { ChatEventHub } from './events/payload.js';
import type { RateLimits } from './limits/rateLimits.js';
import { ResponseBudget } from './limits/responseBudget.js';
import { RateLimitedError } from './resolvers/errors.js';
import { createLoaders, type Loaders } from './resolvers/loaders.js';

/** Long-lived services shared by every request of one server. */
export interface AppServices {
  db: Db;
  config: Config;
  /** The process's watch stream (absent where nothing serves subscriptions, e.g. CLI commands). */
  eventHub?: ChatEventHub;
  /** Recently authenticated tokens (absent: every request looks its token up). */
  viewers?: ViewerCache<Viewer>;
  /** The process's relay of streamed message parts (with `eventHub`). */
  parts?: MessagePartRelay;
  /** Per-user and per-address rate limiters (absent: no rate limits, e.g. CLI commands). */
  limits?: RateLimits;
}

/** Per-request (or per WebSocket operation) context. Loaders live here, never at module scope. */
export interface Context extends AppServices {
  viewer: Viewer | null;
  loaders: Loaders;
  /** Bytes of content this response may still carry (MAX_RESPONSE_BYTES). */
  budget: ResponseBudget;
}

/** A context for `viewer` with fresh loaders (per request; per event for subscriptions). */
export function contextFor(services: AppServices, viewer: Viewer | null): Context {
  return {
    ...services,
    viewer,
    loaders: createLoaders(services.db, viewer, readRetry(services.config.dbReadRetryMs)),
    budget: new ResponseBudget(services.config.maxResponseBytes),
  };
}

/** The answer while the database is unreachable: typed, retryable, HTTP 503 (never a masked 500). */
export function databaseUnavailable(): GraphQLError {
  return new GraphQLError('The database is unreachable right now; retry shortly (a mutation may or may not have been applied: re-read before repeating it)', {
    extensions: { code: ERROR_CODES.DATABASE_UNAVAILABLE, retryable: true, http: { status: 503 } },
  });
}

/** The 401 answer for a token that is present but unusable (unknown, expired, revoked). */
export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ERROR_CODES.UNAUTHENTICATED, http: { status: 401 } } });
}

/** The 429 answer for an address that failed authentication too often, with a retry hint. */
export function tooManyFailures(retryAfterSeconds: number): GraphQLError {
  const error = new RateLimitedError('failed authentications from this address', retryAfterSeconds);
  return new GraphQLError(error.message, {
    extensions: { code: error.code, retryAfterSeconds, http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } } },
  });
}

/**
 * Authenticates with the failed-authentication limit of `address` applied: an address over it
 * is refused before its token is looked up, and every bad token counts against it.
 */
export async function authenticateFrom(services: AppServices, token: string | null, address: string | null): Promise<Viewer> {
  const limits = address ? services.limits : undefined;
  const wait = await limits?.blockedFor('failedAuth', address!);
  if (wait) throw tooManyFailures(wait);
  try {
    return await authenticate(services.db, token, services.viewers);
  } catch (err) {
    if (err instanceof AuthError && err.reason !== 'missing') await limits?.penalize('failedAuth', address!);
    throw err;
  }
}

/**
 * Resolves the viewer from a bearer token. No token means an anonymous context (introspection
 * works, protected fields answer UNAUTHENTICATED); a bad token fails the whole request.
 */
export async function createContext(services: AppServices, token: string | null, address: string | null = null): Promise<Context> {
  if (token === null) return contextFor(services, null);
  try {
    // The token lookup is a read: retried on a connection fault within the request's budget.
    const viewer = await retryRead(() => authenticateFrom(services, token, address), { budgetMs: services.config.dbReadRetryMs });
    return contextFor(services, viewer);
  } catch (err) {
    if (err instanceof AuthError) throw unauthenticated(err.message);
    if (isConnectionError(err) || err instanceof DatabaseUnavailableError) throw databaseUnavailable();
    throw err;
  }
}

/** Reads the token of an HTTP request. */
export function tokenFromRequest(request: Request): string | null {
  return bearerToken(request.headers.get('authorization'));
}
