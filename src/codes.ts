/**
 * Every `extensions.code` and WebSocket close code chatgraph sends, in one place (the client
 * side of each is documented in docs/subscriptions.md and README.md).
 */

/** `extensions.code` values of GraphQL errors. */
export const ERROR_CODES = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** The database is unreachable right now; retry the request (HTTP status 503). */
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  /** The stream is not available right now (starting, shutting down): resubscribe with your last cursor. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The database was unreachable longer than the outage bound; `extensions.cursor` is the last event delivered. */
  STREAM_INTERRUPTED: 'STREAM_INTERRUPTED',
  CURSOR_EXPIRED: 'CURSOR_EXPIRED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** A per-user or per-address rate limit; `extensions.retryAfterSeconds` says when to retry (HTTP 429 for failed authentications). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The operation's list-aware cost is over MAX_COST; `extensions.cost` and `extensions.limit`. */
  COST_LIMIT_EXCEEDED: 'COST_LIMIT_EXCEEDED',
  /** The response would carry more than MAX_RESPONSE_BYTES of content; `extensions.limit`. */
  RESPONSE_TOO_LARGE: 'RESPONSE_TOO_LARGE',
  /** The user already holds MAX_CONNECTIONS_PER_USER WebSockets and SSE streams. */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** A document nested too deep to parse (and other syntax errors). */
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  /** Malformed JSON in a GET/SSE query string. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** A compressed request body (HTTP 415). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** WebSocket close codes the server uses (graphql-ws's own protocol codes 4400/4401/4403… are its own). */
export const CLOSE_CODES = {
  /** Server shutting down: reconnect (to another replica) and resubscribe with your cursors. */
  GOING_AWAY: 1001,
  /** The socket stopped draining and its buffered bytes passed the bound: reconnect and resubscribe with your cursors. */
  SLOW_CONSUMER: 4008,
  /** graphql-ws: Forbidden (missing or bad token at connection_init). */
  FORBIDDEN: 4403,
  /** Too many failed authentications from this address, or too many connections for this user. */
  RATE_LIMITED: 4429,
  /** The database is unreachable while connecting: retry later. */
  TRY_AGAIN_LATER: 1013,
} as const;
