import { Client, fetchExchange, subscriptionExchange, type Exchange } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';
import { createClient as createWsClient, type Client as WsClient, type ClientOptions } from 'graphql-ws';
import { embeddedTypes, liveMergeExchange, liveUpdates, LiveMerge } from './liveMerge.js';
import schema from './introspection.json';
import { resumingSubscriptions, type ResumeOptions } from './resume.js';

export interface ChatgraphClientOptions extends ResumeOptions {
  /** The gateway's /graphql over HTTP (the WebSocket URL is derived from it). */
  url: string;
  token: string;
  /** Tests pass their own graphql-ws client and HTTP transport. */
  ws?: Pick<WsClient, 'subscribe' | 'dispose'>;
  http?: Exchange;
}

export interface ChatgraphClient {
  client: Client;
  merge: LiveMerge;
  dispose(): void;
}

/** A graphql-ws client for the gateway; retries are left to `resumingSubscriptions`. */
export function createGatewaySocket(url: string, token: string, options: Pick<ClientOptions, 'on' | 'webSocketImpl'> = {}): WsClient {
  return createWsClient({ url: url.replace(/^http/, 'ws'), connectionParams: { authToken: token }, retryAttempts: 0, lazy: true, ...options });
}

/**
 * The urql client: graphcache (normalized, schema-aware from ../schema.graphql; relay pagination for the chat list; the live merge's
 * list updates), then the live merge exchange, then HTTP for queries and mutations and
 * graphql-ws for subscriptions, resumed from their last cursor after a disconnect.
 */
export function createChatgraphClient(options: ChatgraphClientOptions): ChatgraphClient {
  const merge = new LiveMerge();
  const ws = options.ws ?? createGatewaySocket(options.url, options.token);
  const client = new Client({
    url: options.url,
    requestPolicy: 'cache-and-network',
    fetchOptions: () => ({ headers: { authorization: `Bearer ${options.token}` } }),
    exchanges: [
      cacheExchange({
        schema,
        keys: embeddedTypes,
        resolvers: { Query: { chats: relayPagination() }, Chat: { messages: relayPagination() } },
        updates: liveUpdates,
      }),
      liveMergeExchange(merge),
      options.http ?? fetchExchange,
      subscriptionExchange({ forwardSubscription: resumingSubscriptions(ws, merge, options) }),
    ],
  });
  return { client, merge, dispose: () => void ws.dispose() };
}
