import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GraphQLError, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { AuthError, authenticate } from './auth/viewer.js';
import { CLOSE_CODES, ERROR_CODES } from './codes.js';
import { DatabaseUnavailableError, isConnectionError, retryRead } from './db/retry.js';
import type { AppServices, Context } from './context.js';
import { startStaleRunReclaimer, type StaleRunReclaimer } from './db/staleRuns.js';
import { SharedExecutions } from './events/sharedExecutions.js';
import { EventStream, type EventStreamOptions } from './events/stream.js';
import { logger } from './logger.js';
import { createChatgraphYoga, tokenFromConnectionParams, type ChatgraphYoga, type GraphiqlDefaults } from './yoga.js';

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
   * Run the stale-run reclaimer (rule 19) while started. Off unless asked: test servers share a
   * process with statement-counting tests, and a background statement would skew their counts.
   */
  reclaimStaleRuns?: boolean;
  eventStream?: EventStreamOptions;
}

/** The envelop-wrapped execute/subscribe pair, carried to graphql-ws through rootValue. */
interface Executable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  execute: (args: ExecutionArgs) => any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  subscribe: (args: ExecutionArgs) => any;
}

/**
 * Batches a socket's frames written in one macrotask into one write. An event fanned out to
 * the 50 subscriptions of one socket would otherwise cost 50 syscalls; the fan-out bench showed
 * socket writes dominating server CPU at 5,000 subscribers. Corking delays a frame by at most
 * the rest of the current macrotask.
 */
function coalesceWrites(socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  if (!raw) return;
  const send = socket.send.bind(socket);
  let corked = false;
  socket.send = ((...args: Parameters<WebSocket['send']>) => {
    if (!corked && !raw.destroyed) {
      corked = true;
      raw.cork();
      setImmediate(() => {
        corked = false;
        raw.uncork();
      });
    }
    return send(...args);
  }) as WebSocket['send'];
}

/** Builds one HTTP server serving yoga and graphql-ws on the same path (`/graphql`). */
export function buildApp(options: AppOptions): App {
  // One listener + hub per process, whatever the number of subscriptions.
  const eventStream = new EventStream(options.db, options.config, options.eventStream);
  const services: AppServices = { db: options.db, config: options.config, eventHub: eventStream.hub };
  const yoga = createChatgraphYoga({
    services,
    graphiql: options.graphiql,
    readinessChecks: [
      async () => {
        if (!eventStream.isHealthy()) throw new Error('event listener not connected');
      },
    ],
  });
  const server = createServer(yoga);
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint, maxPayload: options.config.maxBodyBytes });

  const shared = new SharedExecutions<ExecutionResult>({
    overflow: () => ({ errors: [new GraphQLError('Subscriber fell too far behind; resubscribe', { extensions: { code: ERROR_CODES.SUBSCRIPTION_OVERFLOW } })] }),
    failed: (err) => ({ errors: [err instanceof GraphQLError ? err : new GraphQLError('Subscription failed', { extensions: { code: ERROR_CODES.UNAVAILABLE } })] }),
  });
  if (process.env.CHATGRAPH_WS_CORK !== '0') wss.on('connection', coalesceWrites);
  // The WebSocket transport runs the same envelop plugins as HTTP (yoga.getEnveloped).
  const wsServer = useServer(
    {
      execute: (args) => (args.rootValue as Executable).execute(args),
      // Identical operations of the same viewer share one execution per event (src/events/sharedExecutions.ts).
      subscribe: (args) => {
        const root = args.rootValue as Executable;
        const viewer = (args.contextValue as Context).viewer;
        const key = viewer
          ? JSON.stringify([`${viewer.user.id}:${viewer.isAdmin}:${viewer.isWorker}`, args.operationName ?? null, args.variableValues ?? null, print(args.document)])
          : null;
        return key === null ? root.subscribe(args) : shared.subscribe(key, async () => root.subscribe(args));
      },
      onConnect: async (ctx) => {
        try {
          const token = tokenFromConnectionParams(ctx.connectionParams);
          await retryRead(() => authenticate(services.db, token), { budgetMs: options.config.dbReadRetryMs });
          return true;
        } catch (err) {
          if (err instanceof AuthError) return false; // graphql-ws closes with 4403 Forbidden
          if (err instanceof DatabaseUnavailableError || isConnectionError(err)) {
            // Not a bad token: say "try again later" (graphql-ws's own close after `false` is then a no-op).
            ctx.extra.socket.close(CLOSE_CODES.TRY_AGAIN_LATER, 'Database unavailable; reconnect shortly');
            return false;
          }
          throw err;
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
        let document;
        try {
          document = parse(payload.query);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError('Syntax error')];
        }
        const errors = validate(schema, document);
        if (errors.length > 0) return errors;
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
          rootValue: { execute, subscribe },
        };
      },
    },
    wss,
    options.config.wsKeepAliveMs,
  );

  let reclaimer: StaleRunReclaimer | undefined;
  let stopping: Promise<void> | undefined;
  return {
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
          const address = server.address() as AddressInfo;
          resolve(`http://${address.address}:${address.port}${yoga.graphqlEndpoint}`);
        });
      });
      const [url] = await Promise.all([listening, eventStream.start()]);
      return url;
    },
    stop() {
      stopping ??= (async () => {
        await reclaimer?.stop();
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
}
