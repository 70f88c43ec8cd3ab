import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getOperationAST, GraphQLError, Kind, print, valueFromASTUntyped, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { AuthError } from './auth/viewer.js';
import { ViewerCache } from './auth/viewerCache.js';
import { CLOSE_CODES, ERROR_CODES } from './codes.js';
import { authenticateFrom } from './context.js';
import { DatabaseUnavailableError, isConnectionError, retryRead } from './db/retry.js';
import { UserConnections } from './limits/connections.js';
import { costError } from './limits/cost.js';
import { RateLimits } from './limits/rateLimits.js';
import type { AppServices, Context } from './context.js';
import { startToolResultDeadline } from './db/actionDeadline.js';
import type { PeriodicJob } from './db/periodicJob.js';
import { startStaleRunReclaimer, type StaleRunReclaimer } from './db/staleRuns.js';
import type { MessagePartRelay } from './events/messageParts.js';
import { SharedExecutions } from './events/sharedExecutions.js';
import { EventStream, type EventStreamOptions } from './events/stream.js';
import type { Logger } from 'pino';
import { logger } from './logger.js';
import { registerMetricsSource } from './metrics.js';
import { TrustedDocuments } from './trustedDocuments.js';
import type { GraphiqlDefaults } from './graphiql.js';
import { tryDecodeId } from './schema/globalIds.js';
import { closeSlow, coalesceWrites, guardSlowConsumer, SharedFrames } from './webSocketFrames.js';
import { createChatgraphYoga, tokenFromConnectionParams, type ChatgraphYoga } from './yoga.js';

/** A running (or startable) chatgraph HTTP + WebSocket server. */
export interface App {
  yoga: ChatgraphYoga;
  server: Server;
  /** The process's watch stream: `app.eventStream.subscriberCount` counts hub subscriptions. */
  eventStream: EventStream;
  /** Live subscription operations of clients, both transports (identical WebSocket ones share a hub subscription). */
  readonly liveSubscriptions: number;
  /** Listens on `port` (0 = any free port); resolves to the bound URL of /graphql. */
  start(port?: number, host?: string): Promise<string>;
  /** Stops accepting, closes sockets, waits for in-flight requests (bounded). Idempotent. */
  stop(): Promise<void>;
}

export interface AppOptions extends AppServices {
  graphiql?: GraphiqlDefaults;
  /**
   * Run the stale-run reclaimer (STALE_RUN_SECONDS) and the tool-result deadline while started. Off unless asked: test servers share a
   * process with statement-counting tests, and a background statement would skew their counts.
   */
  reclaimStaleRuns?: boolean;
  eventStream?: EventStreamOptions;
  /** Where the per-operation log lines go (default: the process logger). */
  operationLogger?: Logger;
}

/** The envelop-wrapped execute/subscribe pair and the operation's socket, carried to graphql-ws through rootValue. */
interface Executable {
  socket: WebSocket;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  execute: (args: ExecutionArgs) => any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  subscribe: (args: ExecutionArgs) => any;
}

/**
 * Whether a subscription resumes from a cursor (`after` given on its root field). Such a
 * subscription replays from its own position and must never join a running shared execution:
 * two clients resuming from the same cursor at different times would otherwise share one
 * stream, and the later one would miss what the earlier one had already been sent.
 */
function resumesFromCursor(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  for (const selection of operation?.selectionSet.selections ?? []) {
    if (selection.kind !== Kind.FIELD) return true; // fragments at the root: do not guess
    for (const arg of selection.arguments ?? []) {
      if (arg.name.value !== 'after') continue;
      if (arg.value.kind === Kind.NULL) continue;
      if (arg.value.kind === Kind.VARIABLE && (args.variableValues as Record<string, unknown> | undefined)?.[arg.value.name.value] == null) continue;
      return true;
    }
  }
  return false;
}

/**
 * Whether an operation may join an identical running one (a joiner gets only what arrives after
 * it joins). Not chatsSettled: a joiner would miss the chats already settled. Not chatEvents of
 * a chat with an open streamed preview: a joiner would miss the preview so far.
 */
function shareable(args: ExecutionArgs, parts: MessagePartRelay): boolean {
  const operation = args.document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (args.operationName == null || d.name?.value === args.operationName),
  );
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return false;
  for (const field of operation.selectionSet.selections) {
    if (field.kind !== Kind.FIELD) return false;
    if (field.name.value === 'chatsSettled') return false;
    if (field.name.value === 'chatEvents') {
      const arg = field.arguments?.find((a) => a.name.value === 'chatId');
      const raw = arg ? valueFromASTUntyped(arg.value, args.variableValues ?? undefined) : undefined;
      const chatId = typeof raw === 'string' ? tryDecodeId(raw, 'Chat') : null;
      if (chatId === null || parts.hasPreview(chatId)) return false;
    }
  }
  return true;
}

/** Builds one HTTP server serving yoga and graphql-ws on the same path (`/graphql`). */
export function buildApp(options: AppOptions): App {
  // One listener + hub per process, whatever the number of subscriptions.
  const eventStream = new EventStream(options.db, options.config, options.eventStream);
  const limits = options.limits ?? new RateLimits(options.config);
  const services: AppServices = {
    db: options.db,
    config: options.config,
    eventHub: eventStream.hub,
    limits,
    parts: eventStream.parts,
    viewers: new ViewerCache(options.config.authCacheMs),
  };
  const connections = new UserConnections(options.config.maxConnectionsPerUser);
  const trusted = options.config.trustedDocuments ? TrustedDocuments.load(options.config.trustedDocuments) : undefined;
  const yoga = createChatgraphYoga({
    services,
    connections,
    trustedDocuments: trusted,
    graphiql: options.graphiql,
    logger: options.operationLogger,
    readinessChecks: [
      async () => {
        if (!eventStream.isHealthy()) throw new Error('event listener not connected');
      },
    ],
  });
  // Slowloris: a client must send its headers within headersTimeoutMs and its whole request
  // within twice that; Node checks every second (its default check runs every 30 s).
  const server = createServer({ headersTimeout: options.config.headersTimeoutMs, requestTimeout: options.config.headersTimeoutMs * 2, connectionsCheckingInterval: 1000 }, yoga);
  // Upgrades are routed by hand (noServer) so the WebSocket server never re-emits the HTTP
  // server's errors: a port in use is reported once, by start(), not also as a ws stack trace.
  // perMessageDeflate stays off: large shared payloads go out as fragments written back to back
  // (src/webSocketFrames.ts), which relies on ws writing each frame at once.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.config.maxBodyBytes, perMessageDeflate: false });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== yoga.graphqlEndpoint) {
      socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  const socketUsers = new WeakMap<object, string>();
  const shared = new SharedExecutions<ExecutionResult>(
    { failed: (err) => ({ errors: [err instanceof GraphQLError ? err : new GraphQLError('Subscription failed', { extensions: { code: ERROR_CODES.UNAVAILABLE } })] }) },
    { stallMs: options.config.wsStallMs },
  );
  const frames = new SharedFrames();
  // Registered before graphql-ws's own handler, so every frame it sends goes through these
  // (the last installed runs first: the payload is spliced in before the buffer is measured).
  wss.on('connection', (socket) => {
    if (options.config.wsCork) coalesceWrites(socket);
    guardSlowConsumer(socket, options.config.wsMaxBufferedBytes, options.config.wsStallMs);
    frames.install(socket);
  });
  // The WebSocket transport runs the same envelop plugins as HTTP (yoga.getEnveloped).
  const wsServer = useServer(
    {
      execute: (args) => (args.rootValue as Executable).execute(args),
      // Identical operations of the same viewer share one execution per event (src/events/sharedExecutions.ts).
      subscribe: (args) => {
        const root = args.rootValue as Executable;
        const viewer = (args.contextValue as Context).viewer;
        const key = viewer && !resumesFromCursor(args) && shareable(args, eventStream.parts)
          ? JSON.stringify([`${viewer.user.id}:${viewer.isAdmin}:${viewer.isWorker}`, args.operationName ?? null, args.variableValues ?? null, print(args.document)])
          : null;
        return key === null
          ? root.subscribe(args)
          : shared.subscribe(key, async () => root.subscribe(args), () => closeSlow(root.socket, `fell ${options.config.wsStallMs} ms behind its shared stream`));
      },
      // Each event result is serialised once for all the subscriptions it goes to (src/webSocketFrames.ts).
      onNext: (ctx, id, _payload, _args, result) => frames.next(ctx.extra.socket, id, result as ExecutionResult),
      onConnect: async (ctx) => {
        let userId: string;
        try {
          const token = tokenFromConnectionParams(ctx.connectionParams);
          const address = ctx.extra.request.socket.remoteAddress ?? null;
          userId = (await retryRead(() => authenticateFrom(services, token, address), { budgetMs: options.config.dbReadRetryMs })).user.id;
        } catch (err) {
          if (err instanceof AuthError) return false; // graphql-ws closes with 4403 Forbidden
          if (err instanceof GraphQLError && err.extensions.code === ERROR_CODES.RATE_LIMITED) {
            ctx.extra.socket.close(CLOSE_CODES.RATE_LIMITED, 'Too many failed authentications; retry later');
            return false;
          }
          if (err instanceof DatabaseUnavailableError || isConnectionError(err)) {
            // Not a bad token: say "try again later" (graphql-ws's own close after `false` is then a no-op).
            ctx.extra.socket.close(CLOSE_CODES.TRY_AGAIN_LATER, 'Database unavailable; reconnect shortly');
            return false;
          }
          throw err;
        }
        if (!connections.acquire(userId)) {
          ctx.extra.socket.close(CLOSE_CODES.RATE_LIMITED, `Too many connections for this user (limit ${connections.limit})`);
          return false;
        }
        socketUsers.set(ctx.extra.socket, userId);
        return true;
      },
      onClose: (ctx) => {
        const userId = socketUsers.get(ctx.extra.socket);
        if (userId !== undefined) {
          socketUsers.delete(ctx.extra.socket);
          connections.release(userId);
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        // graphql-ws registers this operation's id before calling onSubscribe, so it is counted.
        const active = Object.keys(ctx.subscriptions).length;
        if (active > options.config.maxSubscriptionsPerConnection) {
          return [new GraphQLError(`Too many subscriptions on this connection (limit ${options.config.maxSubscriptionsPerConnection})`, { extensions: { code: ERROR_CODES.TOO_MANY_SUBSCRIPTIONS } })];
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          connectionParams: ctx.connectionParams ?? {},
        });
        let query = payload.query;
        if (trusted) {
          // graphql-ws bypasses yoga's request parsing, so trusted documents are enforced here too.
          const resolved = trusted.resolve(payload as typeof payload & { documentId?: unknown });
          if ('error' in resolved) return [resolved.error];
          query = resolved.query;
        }
        let document;
        try {
          document = parse(query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Syntax error')];
        }
        // Every limit rejection is an `error` message for this operation, never a socket close:
        // a limit rule that throws (armor's, past its threshold) is caught like one that reports.
        try {
          const errors = validate(schema, document);
          if (errors.length > 0) return errors;
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Invalid document')];
        }
        const tooExpensive = costError(schema, document, payload.variables ?? undefined, payload.operationName, options.config.maxCost);
        if (tooExpensive) return [tooExpensive];
        let contextValue;
        try {
          // Re-checks the token on every subscribe: a token revoked after connect stops working.
          contextValue = await contextFactory();
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
        return {
          schema,
          operationName: payload.operationName,
          document,
          variableValues: payload.variables,
          contextValue,
          rootValue: { execute, subscribe, socket: ctx.extra.socket } satisfies Executable,
        };
      },
    },
    wss,
    options.config.wsKeepAliveMs,
  );

  let reclaimer: StaleRunReclaimer | undefined;
  let deadline: PeriodicJob | undefined;
  let stopping: Promise<void> | undefined;
  let unregisterMetrics: (() => void) | undefined;
  const app: App = {
    yoga,
    server,
    eventStream,
    get liveSubscriptions() {
      // Client operations: WebSocket subscribers (many may share one hub subscription) plus the
      // hub subscriptions that are not a shared stream's source (SSE).
      return shared.subscriberCount + Math.max(0, eventStream.subscriberCount - shared.streamCount);
    },
    async start(port = options.config.port, host = options.config.host) {
      const listening = new Promise<string>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          if (options.reclaimStaleRuns) reclaimer ??= startStaleRunReclaimer(services.db, { staleSeconds: options.config.staleRunSeconds });
          if (options.reclaimStaleRuns && options.config.toolResultTimeoutSeconds > 0) {
            deadline ??= startToolResultDeadline(services.db, { seconds: options.config.toolResultTimeoutSeconds });
          }
          const address = server.address() as AddressInfo;
          resolve(`http://${address.address}:${address.port}${yoga.graphqlEndpoint}`);
        });
      });
      const [url] = await Promise.all([listening, eventStream.start()]);
      unregisterMetrics ??= registerMetricsSource({
        webSocketConnections: () => wss.clients.size,
        subscriptions: () => app.liveSubscriptions,
        listenConnects: () => eventStream.listener.connectCount,
        pool: () => ({ total: options.db.$pool.totalCount, idle: options.db.$pool.idleCount, waiting: options.db.$pool.waitingCount }),
      });
      return url;
    },
    stop() {
      stopping ??= (async () => {
        unregisterMetrics?.();
        await Promise.all([reclaimer?.stop(), deadline?.stop()]);
        // WebSocket clients first: a 1001 close makes them reconnect (to another replica) and
        // resubscribe. Then the hub ends what is left (SSE streams), so server.close() is not
        // held up by open event streams, and the LISTEN connection is released.
        for (const client of wss.clients) client.close(CLOSE_CODES.GOING_AWAY, 'Server shutting down');
        await wsServer.dispose();
        await eventStream.stop();
        await new Promise<void>((resolve) => {
          if (!server.listening) return resolve();
          const force = setTimeout(() => server.closeAllConnections(), 5000);
          force.unref();
          server.close(() => {
            clearTimeout(force);
            resolve();
          });
          server.closeIdleConnections();
        });
        await yoga.dispose();
        logger.debug('server stopped');
      })();
      return stopping;
    },
  };
  return app;
}
