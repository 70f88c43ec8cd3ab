import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../src/config.js';
import type { Db } from '../../src/db/index.js';
import { buildApp, type App, type AppOptions } from '../../src/server.js';
import { recordOperation } from './operations.js';

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  config: Config;
  /** POSTs a GraphQL operation over real HTTP. */
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResponse<T>>;
  /** A graphql-ws client over a real WebSocket (closed by stop()). */
  ws(connectionParams?: Record<string, unknown>, options?: { retryAttempts?: number; lazy?: boolean }): Client;
  stop(): Promise<void>;
}

export interface GqlResponse<T> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }>;
}

/**
 * Abuse limits are lifted for test servers (suites send fast from one user and one address);
 * test/abuse.test.ts turns each on and proves it.
 */
const LIFTED_LIMITS = {
  RATE_SENDS_PER_MINUTE: '0',
  RATE_TOOL_RESULTS_PER_MINUTE: '0',
  RATE_APPENDS_PER_MINUTE: '0',
  RATE_PUBLISHES_PER_SECOND: '0',
  RATE_FAILED_AUTH_PER_MINUTE: '0',
  MAX_CONNECTIONS_PER_USER: '10000',
};

/** Starts the real server on port 0 against `db` (`options`: e.g. a quiet event-stream logger). */
export async function startTestServer(db: Db, env: Record<string, string> = {}, options: Partial<AppOptions> = {}): Promise<TestServer> {
  const config = loadConfig({ ...process.env, PORT: '0', ...LIFTED_LIMITS, ...env });
  const app = buildApp({ ...options, db, config });
  const url = await app.start(0, '127.0.0.1');
  const wsUrl = url.replace(/^http/, 'ws');
  const clients: Client[] = [];
  return {
    app,
    url,
    wsUrl,
    config,
    async gql(query, variables, token) {
      recordOperation(query, variables);
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = (await res.json()) as GqlResponse<never>;
      return { ...body, status: res.status };
    },
    ws(connectionParams, options = {}) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams,
        lazy: options.lazy ?? true,
        retryAttempts: options.retryAttempts ?? 0,
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
    },
  };
}

/** Runs one query or mutation over graphql-ws and resolves with its single result. */
export function wsQuery<T>(client: Client, query: string, variables?: Record<string, unknown>): Promise<FormattedExecutionResult<T, unknown>> {
  recordOperation(query, variables);
  return new Promise((resolve, reject) => {
    let result: FormattedExecutionResult<T, unknown> | undefined;
    client.subscribe<T>({ query, variables }, {
      next: (value) => (result = value),
      error: reject,
      complete: () => (result ? resolve(result) : reject(new Error('completed without a result'))),
    });
  });
}
