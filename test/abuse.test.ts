import { connect } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimits } from '../src/limits/rateLimits.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { tableFingerprint } from './helpers/tables.js';

const RESULT = '__typename ... on Error { message }';

/** Opens a graphql-transport-ws socket, sends connection_init with `token`, resolves with the close code (or 'open' once acked). */
function wsConnect(url: string, token: string | null, init = true): Promise<{ ws: WebSocket; outcome: number | 'acked' }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'graphql-transport-ws');
    ws.once('open', () => {
      if (init) ws.send(JSON.stringify({ type: 'connection_init', payload: token ? { authToken: token } : {} }));
    });
    ws.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') resolve({ ws, outcome: 'acked' });
    });
    ws.once('close', (code) => resolve({ ws, outcome: code }));
  });
}

describe('abuse is bounded', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let worker: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db, { username: 'alice' });
    worker = await makeUser(t.db, { username: 'wrk', scopes: ['worker'] });
    server = await startTestServer(t.db, {
      RATE_SENDS_PER_MINUTE: '3',
      RATE_APPENDS_PER_MINUTE: '4',
      RATE_TOOL_RESULTS_PER_MINUTE: '1',
      RATE_PUBLISHES_PER_SECOND: '2',
      RATE_FAILED_AUTH_PER_MINUTE: '5',
      MAX_CONNECTIONS_PER_USER: '2',
      HEADERS_TIMEOUT_MS: '1000',
    });
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('sends are rate-limited per user: RATE_LIMITED with a retry hint, nothing written', async () => {
    const create = () => server.gql<{ createChat: { __typename: string } }>(`mutation { createChat(input: { content: [{ type: TEXT, text: "hi" }] }) { ${RESULT} } }`, {}, alice.token);
    for (let i = 0; i < 3; i++) expect((await create()).data?.createChat.__typename).toBe('ChatMessagePayload');
    const before = await tableFingerprint(t.db);
    const limited = await create();
    expect(limited.errors?.[0]).toMatchObject({ extensions: { code: 'RATE_LIMITED' } });
    expect(limited.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(limited.errors?.[0]?.extensions?.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect(await tableFingerprint(t.db)).toEqual(before);
    // Another user is not affected.
    const bob = await makeUser(t.db, { username: 'bob' });
    expect((await server.gql<{ createChat: { __typename: string } }>(`mutation { createChat(input: { content: [{ type: TEXT, text: "hi" }] }) { ${RESULT} } }`, {}, bob.token)).data?.createChat.__typename).toBe('ChatMessagePayload');
  });

  it('worker appends (tool results included) are rate-limited per message', async () => {
    const chatId = await insertChat(t.db, alice.user.id, { status: 'running' });
    await t.db.none(`UPDATE chats SET worker_id = 'w1' WHERE id = $1`, [chatId]);
    const append = (n: number) => server.gql<{ appendChatMessages: { __typename: string } }>(
      `mutation($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { ${RESULT} } }`,
      { input: { chatId: encodeGlobalID('Chat', chatId), workerId: 'w1', messages: Array.from({ length: n }, () => ({ role: 'TOOL', parts: [{ type: 'tool-result', toolCallId: 'c', toolName: 't', result: {} }] })) } },
      worker.token,
    );
    expect((await append(3)).data?.appendChatMessages.__typename).toBe('AppendChatMessagesPayload');
    const before = await tableFingerprint(t.db);
    const limited = await append(2);
    expect(limited.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(await tableFingerprint(t.db)).toEqual(before);
  });

  it('tool results are rate-limited per user, one point per result, before anything is written', async () => {
    const chatId = await insertChat(t.db, alice.user.id, { status: 'requires_action' });
    await insertMessage(t.db, chatId, { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'confirm', args: {} }, { type: 'tool-call', toolCallId: 'c2', toolName: 'confirm', args: {} }] });
    const before = await tableFingerprint(t.db);
    const res = await server.gql<{ submitToolResults: unknown }>(
      `mutation($input: SubmitToolResultsInput!) { submitToolResults(input: $input) { ${RESULT} } }`,
      { input: { chatId: encodeGlobalID('Chat', chatId), results: [{ toolCallId: 'c1', output: true }, { toolCallId: 'c2', output: true }] } },
      alice.token,
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(res.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await tableFingerprint(t.db)).toEqual(before);
  });

  it('published message parts are rate-limited per worker across its chats', async () => {
    const chats = [];
    for (let i = 0; i < 3; i++) {
      const id = await insertChat(t.db, alice.user.id, { status: 'running' });
      await t.db.none(`UPDATE chats SET worker_id = 'w-pub', heartbeat_at = now() WHERE id = $1`, [id]);
      chats.push(id);
    }
    const publish = (chatId: string) => server.gql<{ publishChatMessageParts: { __typename: string; message?: string; retryAfterSeconds?: number } }>(
      `mutation($input: PublishChatMessagePartsInput!) { publishChatMessageParts(input: $input) { ${RESULT} ... on RateLimitedError { retryAfterSeconds } } }`,
      { input: { chatId: encodeGlobalID('Chat', chatId), workerId: 'w-pub', attempt: 1, seq: 0, parts: [{ type: 'text', text: 'x' }] } },
      worker.token,
    );
    const results = [];
    for (const id of chats) results.push((await publish(id)).data?.publishChatMessageParts);
    expect(results.map((r) => r?.__typename)).toEqual(['PublishChatMessagePartsPayload', 'PublishChatMessagePartsPayload', 'RateLimitedError']);
    // The per-worker limiter (not the per-chat one: each chat got one batch), typed, with a retry hint.
    expect(results[2]).toMatchObject({ retryAfterSeconds: 1, message: expect.stringContaining('message parts published') });
  });

  it('the limiter for worker publishing is provided with a retry hint', async () => {
    const limits = new RateLimits({ rateSendsPerMinute: 0, rateToolResultsPerMinute: 0, rateAppendsPerMinute: 0, ratePublishesPerSecond: 2, rateFailedAuthPerMinute: 0 });
    await limits.take('publishes', 'w');
    await limits.take('publishes', 'w');
    await expect(limits.take('publishes', 'w')).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
    await limits.take('sends', 'w'); // 0 = off
  });

  it('failed authentications are limited per address: 429 with Retry-After, even for a good token, and WebSocket 4429', async () => {
    const bad = `cg_${'1'.repeat(32)}_${'B'.repeat(43)}`;
    for (let i = 0; i < 5; i++) expect((await server.gql('{ viewer { id } }', {}, bad)).status).toBe(401);
    const blocked = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bad}` }, body: '{"query":"{ viewer { id } }"}' });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await blocked.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('RATE_LIMITED');
    expect((await server.gql('{ viewer { id } }', {}, alice.token)).status).toBe(429);
    expect((await wsConnect(server.wsUrl, alice.token)).outcome).toBe(4429);
    // Anonymous requests need no token lookup and stay answerable (introspection, health).
    expect((await server.gql('{ __typename }')).status).toBe(200);
  });
});

describe('connections are bounded', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    alice = await makeUser(t.db, { username: 'alice' });
    server = await startTestServer(t.db, { MAX_CONNECTIONS_PER_USER: '2', HEADERS_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('a user holds at most MAX_CONNECTIONS_PER_USER WebSockets and SSE streams; closing one frees a slot', async () => {
    const a = await wsConnect(server.wsUrl, alice.token);
    const b = await wsConnect(server.wsUrl, alice.token);
    expect([a.outcome, b.outcome]).toEqual(['acked', 'acked']);
    expect((await wsConnect(server.wsUrl, alice.token)).outcome).toBe(4429);
    const sse = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: 'subscription { chatWatch { kind } }' }),
    });
    const first = await sse.body!.getReader().read();
    expect(new TextDecoder().decode(first.value)).toContain('TOO_MANY_CONNECTIONS');
    a.ws.close();
    await expect.poll(async () => {
      const c = await wsConnect(server.wsUrl, alice.token);
      c.ws.close();
      return c.outcome;
    }, { timeout: 5000 }).toBe('acked');
    b.ws.close();
  });

  it('an SSE stream holds a slot until it is closed', async () => {
    const ws = await wsConnect(server.wsUrl, alice.token);
    const abort = new AbortController();
    const sse = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: 'subscription { chatWatch { kind } }' }),
      signal: abort.signal,
    });
    expect(sse.status).toBe(200);
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 5000 }).toBeGreaterThanOrEqual(1);
    expect((await wsConnect(server.wsUrl, alice.token)).outcome).toBe(4429);
    abort.abort();
    await expect.poll(async () => {
      const c = await wsConnect(server.wsUrl, alice.token);
      c.ws.close();
      return c.outcome;
    }, { timeout: 5000 }).toBe('acked');
    ws.ws.close();
  });

  it('a WebSocket that never sends connection_init is closed with 4408', async () => {
    const started = Date.now();
    const { outcome } = await wsConnect(server.wsUrl, null, false);
    expect(outcome).toBe(4408);
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('HTTP sockets that dribble their headers are cut after HEADERS_TIMEOUT_MS (slowloris)', async () => {
    const port = Number(new URL(server.url).port);
    const sockets = Array.from({ length: 50 }, () => {
      const socket = connect(port, '127.0.0.1');
      socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => socket.writable && socket.write('X-a: b\r\n'), 200);
      const closed = new Promise<number>((resolve) => socket.once('close', () => (clearInterval(drip), resolve(Date.now()))));
      socket.on('error', () => undefined);
      return closed;
    });
    const started = Date.now();
    const closedAt = await Promise.all(sockets);
    const slowest = Math.max(...closedAt) - started;
    expect(slowest).toBeLessThan(4000);
  });
});
