import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { PothosValidationError } from '@pothos/core';
import { GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, maskError as yogaMaskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { bearerToken } from './auth/viewer.js';
import type { IncomingMessage } from 'node:http';
import { createContext, databaseUnavailable, tokenFromRequest, type AppServices, type Context } from './context.js';
import { DatabaseUnavailableError, isConnectionError } from './db/retry.js';
import { ping } from './db/index.js';
import { useCompiledExecution } from './executor.js';
import { graphiqlPlugin, type GraphiqlDefaults } from './graphiql.js';
import { UserConnections } from './limits/connections.js';
import { bodyLimitPlugin, costLimitPlugin, documentNestingPlugin, queryStringPlugin, responseBudgetPlugin, sseConnectionsPlugin } from './limits/yogaPlugins.js';
import { logger } from './logger.js';
import { metricsPlugin } from './metrics.js';
import { operationLogPlugin } from './operationLog.js';
import { tracingPlugin } from './tracing.js';
import type { TrustedDocuments } from './trustedDocuments.js';
import { DomainError } from './resolvers/errors.js';
import { schema } from './schema/index.js';

/** Server-level context: an HTTP request, or the connection params of a graphql-ws socket. */
export interface ServerContext {
  connectionParams?: Record<string, unknown>;
  /** The Node request (HTTP, or the WebSocket upgrade): its socket gives the client address. */
  req?: IncomingMessage;
}

export interface YogaOptions {
  services: AppServices;
  graphiql?: GraphiqlDefaults;
  /** Where operation log lines go (default: the process logger). */
  logger?: Logger;
  /** Trusted documents mode: only the manifest's operations run (see trustedDocuments.ts). */
  trustedDocuments?: TrustedDocuments;
  /** Extra readiness checks (the LISTEN connection, later); each throws when not ready. */
  readinessChecks?: Array<() => Promise<void>>;
  /** Live channels per user, shared with the WebSocket server (one per app). */
  connections?: UserConnections;
}

export type ChatgraphYoga = YogaServerInstance<ServerContext, Context>;

/** Token from graphql-ws connection params: `authToken`, or an Authorization header as GraphiQL sends it. */
export function tokenFromConnectionParams(params: Record<string, unknown> | undefined): string | null {
  if (!params) return null;
  if (typeof params.authToken === 'string') return params.authToken;
  const headers = (typeof params.headers === 'object' && params.headers) || params;
  const header = (headers as Record<string, unknown>).Authorization ?? (headers as Record<string, unknown>).authorization;
  return typeof header === 'string' ? bearerToken(header) : null;
}

/** Answers /ready: the database (and any extra dependency) reachable. */
function readinessPlugin(services: AppServices, checks: Array<() => Promise<void>>): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== '/ready') return;
      try {
        await ping(services.db);
        for (const check of checks) await check();
        endResponse(fetchAPI.Response.json({ status: 'ready' }));
      } catch (err) {
        logger.warn({ err: String(err) }, 'readiness check failed');
        endResponse(fetchAPI.Response.json({ status: 'unavailable' }, { status: 503 }));
      }
    },
  };
}

/**
 * Expected failures keep their message and get `extensions.code`; everything else (database
 * errors included) becomes "Unexpected error." and is logged, so no SQL text reaches a client.
 */
export function maskError(error: unknown, message: string): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  const at = error instanceof GraphQLError ? { nodes: error.nodes, path: error.path } : {};
  if (original instanceof DomainError) {
    return new GraphQLError(original.message, { ...at, extensions: { ...original.extensions, code: original.code } });
  }
  if (original instanceof DatabaseUnavailableError || isConnectionError(original)) {
    logger.warn({ err: original instanceof Error ? original.message : String(original), path: at.path }, 'database unavailable');
    const unavailable = databaseUnavailable();
    return new GraphQLError(unavailable.message, { ...at, extensions: unavailable.extensions });
  }
  if (original instanceof PothosValidationError) {
    return new GraphQLError(original.message, { ...at, extensions: { code: 'BAD_USER_INPUT' } });
  }
  if (original && !(original instanceof GraphQLError)) {
    logger.error({ err: original instanceof Error ? { message: original.message, stack: original.stack } : String(original), path: at.path }, 'unexpected error');
  }
  return yogaMaskError(error, message, false);
}

/** Introspection only where GraphiQL is served. */
const disableIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};

/** Builds the yoga instance; tests call `yoga.fetch` directly, the server mounts it on HTTP and WS. */
export function createChatgraphYoga(options: YogaOptions): ChatgraphYoga {
  const { services } = options;
  const { config } = services;
  const plugins: Plugin[] = [
    readinessPlugin(services, options.readinessChecks ?? []),
    queryStringPlugin,
    documentNestingPlugin(),
    EnvelopArmorPlugin({
      maxDepth: { n: 12 },
      maxAliases: { n: 15 },
      maxTokens: { n: 2000 },
      maxDirectives: { n: 20 },
      // Cost is counted by costLimitPlugin, which multiplies by list sizes (armor's does not).
      costLimit: { enabled: false },
      blockFieldSuggestion: { enabled: config.production },
    }),
    costLimitPlugin(config.maxCost),
    responseBudgetPlugin,
    sseConnectionsPlugin(options.connections ?? new UserConnections(config.maxConnectionsPerUser)),
  ];
  plugins.unshift(operationLogPlugin(options.logger ?? logger) as Plugin);
  if (config.metrics) plugins.unshift(metricsPlugin());
  if (config.tracing !== 'off') plugins.push(tracingPlugin(config.tracing));
  if (options.trustedDocuments) plugins.push(options.trustedDocuments.plugin());
  if (config.graphiql) plugins.unshift(graphiqlPlugin('/graphql', options.graphiql));
  else plugins.push(disableIntrospection);
  // First of all: it may replace the request with one whose body it has read (bounded), and
  // every later hook (request ids, metrics) must see that same request object.
  plugins.unshift(bodyLimitPlugin(config.maxBodyBytes));
  if (config.graphqlJit) plugins.push(useCompiledExecution());

  return createYoga<ServerContext, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    landingPage: false,
    maskedErrors: { isDev: false, maskError },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(' ')),
      info: (...args) => logger.info(args.map(String).join(' ')),
      warn: (...args) => logger.warn(args.map(String).join(' ')),
      // Yoga reports every error it re-wraps; expected (domain, input) errors are not server errors.
      error: (...args) => {
        const first = args[0] as { originalError?: unknown } | undefined;
        const expected = first instanceof DomainError || first?.originalError instanceof DomainError || first instanceof PothosValidationError || first?.originalError instanceof PothosValidationError;
        if (expected) logger.debug(args.map(String).join(' '));
        else logger.error(args.map(String).join(' '));
      },
    },
    // GraphiQL is served by graphiqlPlugin (compressed, cacheable, with a WebSocket-auth fetcher).
    graphiql: false,
    plugins,
    context: ({ request, connectionParams, req }) =>
      createContext(services, connectionParams ? tokenFromConnectionParams(connectionParams) : tokenFromRequest(request), req?.socket?.remoteAddress ?? null),
  });
}
