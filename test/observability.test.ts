import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo } from '../src/db/seed.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// /metrics, request ids and the per-operation log line, over real HTTP and graphql-ws.
let database: TestDatabase;
let server: TestServer;
let user: TestUser;
let chatId: string;
const logLines: Array<Record<string, unknown>> = [];
const rawLog: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemo(database.db);
  user = await makeUser(database.db);
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      rawLog.push(chunk.toString());
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  server = await startTestServer(database.db, {}, {
    operationLogger: pino({ level: 'info', base: undefined }, sink),
    // The killed LISTEN backend below is expected: keep its warning out of the test log.
    eventStream: { logger: pino({ level: 'silent' }) },
  });
  const created = await server.gql<{ createChat: { chat: { id: string } } }>(
    'mutation Create { createChat(input: { content: [{ type: TEXT, text: "hello" }] }) { ... on ChatMessagePayload { chat { id } } ... on Error { message } } }',
    {},
    user.token,
  );
  chatId = created.data!.createChat.chat.id;
});

afterAll(async () => {
  await server?.stop();
  await database?.close();
});

async function scrape(): Promise<string> {
  const res = await fetch(new URL('/metrics', server.url));
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** Sum of the samples of `name` whose labels include every pair of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

async function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, ...headers },
    body: JSON.stringify(body),
  });
}

describe('request ids and operation log lines', () => {
  it('keeps a client x-request-id, returns it, and logs one line for the operation with it', async () => {
    const res = await post({ query: 'query WhoAmI { viewer { username } }' }, { 'x-request-id': 'req-abc.123' });
    expect(res.headers.get('x-request-id')).toBe('req-abc.123');
    await res.json();
    const lines = logLines.filter((l) => l.requestId === 'req-abc.123');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'graphql operation', operation: 'WhoAmI', type: 'query', transport: 'http', outcome: 'success' });
    expect(typeof lines[0]!.durationMs).toBe('number');
  });

  it('generates an id when the client sends none or an unusable one', async () => {
    const none = await post({ query: '{ viewer { id } }' });
    const bad = await post({ query: '{ viewer { id } }' }, { 'x-request-id': 'has spaces and "quotes"' });
    const ids = [none.headers.get('x-request-id'), bad.headers.get('x-request-id')];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
    expect(logLines.filter((l) => ids.includes(l.requestId as string)).map((l) => l.operation)).toEqual([null, null]);
  });

  it('never logs a token or message content, and logs error codes for failures', async () => {
    const secret = 'TOP-SECRET-CONTENT-7f3a';
    const send = await post(
      { query: 'mutation Send($input: SendChatMessageInput!) { sendChatMessage(input: $input) { __typename } }', variables: { input: { chatId, content: [{ type: 'TEXT', text: secret }] } } },
      { 'x-request-id': 'req-send' },
    );
    expect(((await send.json()) as { data: unknown }).data).toEqual({ sendChatMessage: { __typename: 'SendChatMessagePayload' } });
    const invalid = await post({ query: 'query Broken { viewer { noSuchField } }' }, { 'x-request-id': 'req-invalid' });
    await invalid.json();
    expect(logLines.find((l) => l.requestId === 'req-send')).toMatchObject({ operation: 'Send', type: 'mutation', outcome: 'success' });
    expect(logLines.find((l) => l.requestId === 'req-invalid')).toMatchObject({ operation: 'Broken', outcome: 'invalid', errors: ['GRAPHQL_VALIDATION_FAILED'] });
    const all = rawLog.join('');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(user.token);
    expect(all).not.toContain(user.token.slice(user.token.indexOf('_', 3) + 1)); // not even the secret part (cg_<id>_<secret>)
    expect(all).not.toMatch(/\n\s+at /); // no stack traces for expected failures
  });
});

describe('/metrics', () => {
  it('counts operations by name and outcome, errors by code, with a duration histogram and runtime metrics', async () => {
    const before = await scrape();
    await (await post({ query: 'query Metered { viewer { id } }' })).json();
    await (await post({ query: 'query Metered { viewer { id } }' })).json();
    await (await post({ query: 'query Metered { viewer { nope } }' })).json();
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('chatgraph_graphql_operations_total', { operation: 'Metered', type: 'query', outcome: 'success' })).toBe(2);
    expect(delta('chatgraph_graphql_operations_total', { operation: 'Metered', outcome: 'invalid' })).toBe(1);
    expect(delta('chatgraph_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })).toBe(1);
    expect(delta('chatgraph_graphql_operation_duration_seconds_count', { operation: 'Metered', outcome: 'success' })).toBe(2);
    expect(after).toMatch(/^process_cpu_user_seconds_total /m);
    expect(after).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(sample(after, 'chatgraph_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
  });

  it('a client-chosen operation name that is not a plain name is labelled "other"', async () => {
    await (await post({ query: 'query Q { viewer { id } }', operationName: 'Q' })).json();
    const text = await scrape();
    expect(sample(text, 'chatgraph_graphql_operations_total', { operation: 'Q' })).toBeGreaterThan(0);
    const labels = [...text.matchAll(/operation="([^"]*)"/g)].map((m) => m[1]!);
    for (const label of labels) expect(label).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
  });

  it('shows live connections and subscriptions, events delivered with their lag, and LISTEN reconnects', async () => {
    const before = await scrape();
    const client = server.ws({ authToken: user.token });
    const events: unknown[] = [];
    const dispose = client.subscribe({ query: 'subscription { chatWatch { kind } }' }, { next: (v) => events.push(v), error: () => undefined, complete: () => undefined });
    await expect.poll(async () => sample(await scrape(), 'chatgraph_subscriptions_active'), { timeout: 10_000 }).toBe(1);
    expect(sample(await scrape(), 'chatgraph_websocket_connections')).toBe(1);
    await server.gql('mutation($id: ID!) { updateChat(input: { chatId: $id, title: "Measured" }) { __typename } }', { id: chatId }, user.token);
    await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThan(0);
    const after = await scrape();
    expect(sample(after, 'chatgraph_events_delivered_total') - sample(before, 'chatgraph_events_delivered_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'chatgraph_event_lag_seconds_count') - sample(before, 'chatgraph_event_lag_seconds_count')).toBeGreaterThanOrEqual(1);

    // Kill the LISTEN backend: the listener reconnects and the counter says so.
    const pid = server.app.eventStream.listener.backendPid;
    await database.db.one('SELECT pg_terminate_backend($1)', [pid]);
    await expect.poll(async () => sample(await scrape(), 'chatgraph_listen_reconnects_total'), { timeout: 20_000, interval: 200 }).toBe(1);
    dispose();
    await expect.poll(async () => sample(await scrape(), 'chatgraph_subscriptions_active'), { timeout: 10_000 }).toBe(0);
  });
});

describe('OpenTelemetry tracing', () => {
  it('is off by default; TRACING=global hands spans (without variables) to the registered SDK', async () => {
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider();
    provider.addSpanProcessor(new SimpleSpanProcessor(exporter));
    provider.register();
    await (await post({ query: 'query Untraced { viewer { id } }' })).json();
    expect(exporter.getFinishedSpans()).toEqual([]);
    const traced = await startTestServer(database.db, { TRACING: 'global' }, { eventStream: { logger: pino({ level: 'silent' }) } });
    try {
      const secret = 'variable-secret-91c';
      await traced.gql('query Traced($first: Int, $s: String) { chats(first: $first, after: $s) { totalCount } }', { first: 1, s: null, unused: secret }, user.token);
      const spans = exporter.getFinishedSpans();
      const execute = spans.find((s) => s.attributes['graphql.execute.operationName'] === 'Traced');
      expect(execute?.attributes['graphql.execute.operationType']).toBe('query');
      expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain(secret);
    } finally {
      await traced.stop();
      await provider.shutdown();
    }
  });
});
