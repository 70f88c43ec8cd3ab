import { resolve } from 'node:path';

/** The pino level names LOG_LEVEL may take. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * LOG_LEVEL, or the default (warn under CI, else info). The logger is created when its module
 * loads, before any Config exists, and takes its level from here; an unknown value falls back
 * to the default so that loadConfig, not a pino stack, reports it (one line).
 */
export function logLevel(env: NodeJS.ProcessEnv = process.env): string {
  const level = env.LOG_LEVEL;
  if (level && (LOG_LEVELS as readonly string[]).includes(level)) return level;
  return env.CI ? 'warn' : 'info';
}

/**
 * Validated process configuration, read once from the environment. This module is the only one
 * in src/ that reads process.env (test/layout.test.ts checks it): a setting is added here.
 */
export interface Config {
  /** External Postgres; when absent the embedded Postgres under dataDir is used. */
  databaseUrl: string | undefined;
  port: number;
  host: string;
  /** Root for embedded Postgres data and other local state. */
  dataDir: string;
  /** The level the logger runs at (see logLevel). */
  logLevel: string;
  /** GraphiQL (and with it introspection) served at /graphql. */
  graphiql: boolean;
  /** Production hides field suggestions and masks errors strictly. */
  production: boolean;
  dbPoolSize: number;
  maxBodyBytes: number;
  maxSubscriptionsPerConnection: number;
  /** A running chat whose heartbeat is older than this goes back to pending. */
  staleRunSeconds: number;
  /** Message-part batches per second per chat (sustained) and the burst accepted at once. */
  messagePartsPerSecond: number;
  messagePartsBurst: number;
  /** Bytes of streamed parts one chat's open preview may hold. */
  messagePreviewMaxBytes: number;
  /** A chat left REQUIRES_ACTION this long goes to ERROR (0 = never). */
  toolResultTimeoutSeconds: number;
  eventRetentionDays: number;
  /** How often each process prunes chat_events older than eventRetentionDays. */
  eventPruneIntervalSeconds: number;
  wsKeepAliveMs: number;
  /** How long a database outage may last before live subscriptions end with STREAM_INTERRUPTED. */
  eventOutageSeconds: number;
  /** How long an HTTP request retries an idempotent read (and the token lookup) on a connection error. */
  dbReadRetryMs: number;
  /** A WebSocket whose unsent bytes exceed this is closed as a slow consumer (4008). */
  wsMaxBufferedBytes: number;
  /** A WebSocket that has unsent bytes and drains nothing for this long is closed as a slow consumer (4008). */
  wsStallMs: number;
  /** Coalesce a socket's frames written in one macrotask into one write (benchmarks turn it off to compare). */
  wsCork: boolean;
  /** Compile queries and mutations with graphql-jit (subscriptions always use graphql-js). */
  graphqlJit: boolean;
  /** How long a process trusts a token it has checked: the delay before a revocation takes effect (0 = no cache). */
  authCacheMs: number;
  /** Serve Prometheus metrics at /metrics. */
  metrics: boolean;
  /** OpenTelemetry spans per operation: off, to the globally registered SDK, or to the console. */
  tracing: 'off' | 'global' | 'console';
  /** Manifest of trusted documents (hash → document); when set, only those operations run. */
  trustedDocuments: string | undefined;
  /**
   * npm started this process (it sets npm_command): under `npx chatgraph start` a SIGTERM reaches
   * only npm's shell, so the server also stops when its parent goes (src/index.ts followParent).
   */
  launchedByNpm: boolean;
  /** Largest response body a query or mutation may build (bytes of message content counted). */
  maxResponseBytes: number;
  /** Largest operation cost (list sizes multiply; see src/limits/cost.ts). */
  maxCost: number;
  /** Open WebSocket connections plus SSE streams one user may hold. */
  maxConnectionsPerUser: number;
  /** An HTTP client must finish sending its headers within this long (slowloris). */
  headersTimeoutMs: number;
  /** Per-user rate limits; 0 turns one off. */
  rateSendsPerMinute: number;
  rateToolResultsPerMinute: number;
  rateAppendsPerMinute: number;
  ratePublishesPerSecond: number;
  /** Failed authentications one address may make per minute before it is told to wait. */
  rateFailedAuthPerMinute: number;
}

/** A bad environment value: reported as one line, exit 1. */
export class ConfigError extends Error {}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  }
  return value;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be a boolean (true/false), got "${raw}"`);
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, values: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(values as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
}

/** Reads and validates the environment; throws a one-line error on a bad value. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  if (env.LOG_LEVEL && !(LOG_LEVELS as readonly string[]).includes(env.LOG_LEVEL)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  return {
    databaseUrl,
    port: int(env, 'PORT', 4000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    dataDir: resolve(env.CHATGRAPH_DATA_DIR || '.chatgraph'),
    logLevel: logLevel(env),
    graphiql: bool(env, 'GRAPHIQL', !production),
    production,
    dbPoolSize: int(env, 'DB_POOL_SIZE', 10, 1, 200),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1_000_000, 1024, 100_000_000),
    maxSubscriptionsPerConnection: int(env, 'MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 10_000),
    staleRunSeconds: int(env, 'STALE_RUN_SECONDS', 300, 1, 86_400 * 7),
    messagePartsPerSecond: int(env, 'MESSAGE_PARTS_PER_SECOND', 100, 1, 100_000),
    messagePartsBurst: int(env, 'MESSAGE_PARTS_BURST', 200, 1, 1_000_000),
    messagePreviewMaxBytes: int(env, 'MESSAGE_PREVIEW_MAX_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    toolResultTimeoutSeconds: int(env, 'TOOL_RESULT_TIMEOUT_SECONDS', 3600, 0, 86_400 * 30),
    eventRetentionDays: int(env, 'EVENT_RETENTION_DAYS', 7, 1, 3650),
    eventPruneIntervalSeconds: int(env, 'EVENT_PRUNE_INTERVAL_SECONDS', 3600, 1, 86_400 * 7),
    wsKeepAliveMs: int(env, 'WS_KEEPALIVE_MS', 12_000, 1000, 600_000),
    eventOutageSeconds: int(env, 'EVENT_STREAM_OUTAGE_SECONDS', 30, 1, 3600),
    dbReadRetryMs: int(env, 'DB_READ_RETRY_MS', 2000, 0, 60_000),
    wsMaxBufferedBytes: int(env, 'WS_MAX_BUFFERED_BYTES', 8 * 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    wsStallMs: int(env, 'WS_STALL_MS', 10_000, 100, 600_000),
    wsCork: bool(env, 'CHATGRAPH_WS_CORK', true),
    graphqlJit: bool(env, 'GRAPHQL_JIT', true),
    authCacheMs: int(env, 'AUTH_CACHE_MS', 5000, 0, 300_000),
    metrics: bool(env, 'METRICS', true),
    tracing: oneOf(env, 'TRACING', ['off', 'global', 'console'] as const, 'off'),
    trustedDocuments: env.TRUSTED_DOCUMENTS ? resolve(env.TRUSTED_DOCUMENTS) : undefined,
    launchedByNpm: Boolean(env.npm_command),
    maxResponseBytes: int(env, 'MAX_RESPONSE_BYTES', 10_000_000, 10_000, 1_000_000_000),
    maxCost: int(env, 'MAX_COST', 100_000, 100, 100_000_000),
    maxConnectionsPerUser: int(env, 'MAX_CONNECTIONS_PER_USER', 20, 1, 100_000),
    headersTimeoutMs: int(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    rateSendsPerMinute: int(env, 'RATE_SENDS_PER_MINUTE', 60, 0, 1_000_000),
    rateToolResultsPerMinute: int(env, 'RATE_TOOL_RESULTS_PER_MINUTE', 300, 0, 1_000_000),
    rateAppendsPerMinute: int(env, 'RATE_APPENDS_PER_MINUTE', 6000, 0, 10_000_000),
    ratePublishesPerSecond: int(env, 'RATE_PUBLISHES_PER_SECOND', 10_000, 0, 10_000_000),
    rateFailedAuthPerMinute: int(env, 'RATE_FAILED_AUTH_PER_MINUTE', 30, 0, 1_000_000),
  };
}
