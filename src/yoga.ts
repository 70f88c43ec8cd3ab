import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { PothosValidationError } from '@pothos/core';
import { getOperationAST, GraphQLError, NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, maskError as yogaMaskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { bearerToken } from './auth/viewer.js';
import { createContext, databaseUnavailable, tokenFromRequest, type AppServices, type Context } from './context.js';
import { DatabaseUnavailableError, isConnectionError } from './db/retry.js';
import { ping } from './db/index.js';
import { logger } from './logger.js';
import { DomainError } from './resolvers/errors.js';
import { schema } from './schema/index.js';

/** What the GraphiQL page is prefilled with (demo mode passes a token and a first query). */
export interface GraphiqlDefaults {
  headers?: Record<string, string>;
  defaultQuery?: string;
}

/** Server-level context: an HTTP request, or the connection params of a graphql-ws socket. */
export interface ServerContext {
  connectionParams?: Record<string, unknown>;
}

export interface YogaOptions {
  services: AppServices;
  graphiql?: GraphiqlDefaults;
  /** Extra readiness checks (the LISTEN connection, later); each throws when not ready. */
  readinessChecks?: Array<() => Promise<void>>;
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

/** Rejects bodies above the limit before they are read (413), by declared length. */
function bodyLimitPlugin(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const length = Number(request.headers.get('content-length') ?? 0);
      if (length > maxBytes) {
        endResponse(
          fetchAPI.Response.json(
            { errors: [{ message: `Request body too large (limit ${maxBytes} bytes)`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] },
            { status: 413 },
          ),
        );
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

/** Introspection only where GraphiQL is served (DESIGN 7). */
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
    bodyLimitPlugin(config.maxBodyBytes),
    EnvelopArmorPlugin({
      maxDepth: { n: 12 },
      maxAliases: { n: 15 },
      maxTokens: { n: 2000 },
      maxDirectives: { n: 20 },
      costLimit: { maxCost: 10_000, objectCost: 2, scalarCost: 1, depthCostFactor: 1.5 },
      blockFieldSuggestion: { enabled: config.production },
    }),
  ];
  if (!config.graphiql) plugins.push(disableIntrospection);
  if (config.graphqlJit) {
    // Queries and mutations run through graphql-jit: each distinct document is compiled once
    // (LRU-cached) into plain JS, which removes most of the executor's per-field overhead: the
    // dashboard page went from ~11 to ~7 ms of CPU (bench/RESULTS.md). Subscriptions keep the
    // standard executor (their payloads are mapped per event by graphql-js).
    plugins.push(
      useGraphQlJit({}, { enableIf: (args) => getOperationAST(args.document, args.operationName)?.operation !== 'subscription' }) as Plugin,
    );
  }

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
        const expected = first instanceof DomainError || first?.originalError instanceof DomainError || first instanceof PothosValidationError;
        if (expected) logger.debug(args.map(String).join(' '));
        else logger.error(args.map(String).join(' '));
      },
    },
    graphiql: config.graphiql
      ? {
          title: 'chatgraph',
          subscriptionsProtocol: 'WS',
          defaultQuery: options.graphiql?.defaultQuery,
          headers: options.graphiql?.headers ? JSON.stringify(options.graphiql.headers, null, 2) : undefined,
          shouldPersistHeaders: false,
        }
      : false,
    renderGraphiQL,
    plugins,
    context: ({ request, connectionParams }) =>
      createContext(services, connectionParams ? tokenFromConnectionParams(connectionParams) : tokenFromRequest(request)),
  });
}
