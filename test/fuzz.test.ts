import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { makeUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { tableFingerprint } from './helpers/tables.js';

/**
 * Seeded fuzzing against a running server: malformed documents, variables, ids, cursors, JSON
 * bodies, WebSocket frames and SSE requests. Every answer must be a client error or a clean
 * result: no 5xx, no INTERNAL_SERVER_ERROR, nothing that looks like SQL, a stack or a path, the
 * process still up and every table unchanged. FUZZ_SEED reproduces a run; FUZZ_RUNS scales it.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261201);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2050);
const LEAK = /\bSELECT\b|\bINSERT INTO\b|relation "|violates|pg-protocol|node_modules|\/work\/|\.ts:\d+|\bat [\w$.<>]+ \(|INTERNAL_SERVER_ERROR|Unexpected error/;

const VOCAB = ['{', '}', '(', ')', '[', ']', ':', '...', '$', '@', '!', '=', '"', '"""', ',', 'query', 'mutation', 'subscription', 'fragment', 'on', 'viewer', 'chats',
  'chat', 'node', 'id', 'nodes', 'edges', 'messages', 'parts', 'queuedMessages', 'first', 'last', 'after', 'before', 'labels', 'archived', 'costSummary', 'modelConfigs',
  'createChat', 'input', 'content', 'type', 'TEXT', 'text', '__typename', '__schema', '@include(if: true)', '@skip(if: false)', '100', '-1', '1e400', '9223372036854775808',
  'null', 'true', '"\\u0000"', '"\\ud800"', '#', '\n', 'x'];

/** Query shapes with holes for fuzzed values; read-only, or mutations whose fuzzed ids can never match a row. */
const TEMPLATES = [
  (v: string) => `{ chat(id: ${v}) { id title } }`,
  (v: string) => `{ node(id: ${v}) { id } }`,
  (v: string) => `{ chats(first: 5, after: ${v}) { nodes { id } } }`,
  (v: string) => `{ chats(last: ${v}) { nodes { id } } }`,
  (v: string) => `{ chats(labels: ${v}) { totalCount } }`,
  (v: string) => `{ chats(first: 2) { nodes { messages(first: 3, before: ${v}) { nodes { id parts { __typename } } } } } }`,
  (v: string) => `{ costSummary(startDate: ${v}) { totalCostMicros } }`,
  (v: string) => `{ costUsers(username: ${v}) { nodes { messageCount } } }`,
  (v: string) => `{ modelConfigs(includeDisabled: ${v}) { id } }`,
  (v: string) => `mutation { updateChat(input: { chatId: ${v}, title: "t" }) { __typename } }`,
  (v: string) => `mutation { sendChatMessage(input: { chatId: ${v}, content: [{ type: TEXT, text: "x" }] }) { __typename } }`,
  (v: string) => `mutation { markChatRead(input: { chatId: ${v} }) { __typename } }`,
  (v: string) => `mutation { createChat(input: { content: [{ type: TEXT, text: "a\\u0000" }], title: ${v} }) { __typename } }`,
];

const VARIABLE_TEMPLATES = [
  'query($id: ID!) { chat(id: $id) { id } }',
  'query($a: String, $n: Int) { chats(first: $n, after: $a) { nodes { id } } }',
  'query($l: JSON) { chats(labels: $l) { totalCount } }',
  'query($d: DateTime) { costSummary(startDate: $d) { totalCostMicros } }',
  'mutation($input: UpdateChatInput!) { updateChat(input: $input) { __typename } }',
  'mutation($input: CreateChatInput!) { createChat(input: $input) { __typename } }',
  'mutation($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { __typename } }',
  'mutation($input: UpsertChatDiffStatusInput!) { upsertChatDiffStatus(input: $input) { __typename } }',
  'mutation($input: EditChatMessageInput!) { editChatMessage(input: $input) { __typename } }',
];

const badId = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.uuid().map((u) => encodeGlobalID('Chat', u)),
  fc.uuid().map((u) => encodeGlobalID(fc.sample(fc.constantFrom('ChatMessage', 'User', 'Nope', ''), 1)[0]!, u)),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => encodeGlobalID('ChatMessage', String(n))),
  fc.base64String({ maxLength: 60 }),
  fc.constantFrom('', '\u0000', 'Q2hhdDo=', 'cursor', encodeGlobalID('Chat', '\u0000')),
);
const literal = fc.oneof(
  badId.map((s) => JSON.stringify(s)),
  fc.integer().map(String),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '1e400')),
  fc.constantFrom('null', 'true', '[]', '{}', '{ a: [1, { b: "\\u0000" }] }', '"\\ud83d"', `${'['.repeat(300)}${']'.repeat(300)}`, '$undefined', 'ENUM'),
);
const document = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...TEMPLATES), literal).map(([t, v]) => t(v)) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...VOCAB), { maxLength: 60 }).map((t) => t.join(' ')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...TEMPLATES), literal, fc.nat(200), fc.string({ maxLength: 4 })).map(([t, v, at, ins]) => { const s = t(v); return s.slice(0, at % s.length) + ins + s.slice(at % s.length); }) },
  { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((n) => `{ viewer { id } ${'a: viewer { id } '.repeat(n % 40)} }`.replace(/a:/g, () => `a${Math.random().toString(36).slice(2, 6)}:`)) },
  { weight: 1, arbitrary: fc.nat({ max: 2500 }).map((n) => `{ chats(labels: ${'['.repeat(n)}${']'.repeat(n)}) { totalCount } }`) },
);
const jsonish = fc.jsonValue({ maxDepth: 4 }).chain((v) => fc.oneof(fc.constant(v), fc.constant({ text: '\u0000', v }), fc.constant(deep(3000))));
function deep(n: number): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < n; i++) v = [v];
  return v;
}
const variables = fc.record({
  id: badId,
  a: badId,
  n: fc.oneof(fc.integer(), fc.constant(1e20), fc.string({ maxLength: 3 })),
  l: jsonish,
  d: fc.oneof(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), fc.string({ maxLength: 30 })),
  input: fc.oneof(
    fc.record({ chatId: badId, title: fc.string({ maxLength: 20 }), labels: jsonish }),
    fc.record({ content: fc.array(fc.record({ type: fc.constantFrom('TEXT', 'FILE', 'X'), text: fc.string({ maxLength: 5 }).map((s) => `${s}\u0000`), fileId: badId }), { maxLength: 3 }) }),
    fc.record({ chatId: badId, workerId: fc.string({ maxLength: 8 }), messages: fc.array(fc.record({ role: fc.constantFrom('ASSISTANT', 'TOOL', 'NOPE'), parts: jsonish, usage: fc.record({ inputTokens: fc.bigInt({ min: -(2n ** 65n), max: 2n ** 65n }).map(String) }) }), { maxLength: 2 }) }),
    fc.record({ chatId: badId, messageId: badId, content: fc.constant([{ type: 'TEXT', text: 'x' }]), pullRequestTitle: fc.string({ maxLength: 5 }), additions: fc.integer(), deletions: fc.integer(), changedFiles: fc.integer(), pullRequestDraft: fc.boolean(), changesRequested: fc.boolean() }),
    jsonish,
  ),
});
const httpBody = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(document, fc.option(variables)).map(([query, vars]) => JSON.stringify({ query, variables: vars ?? undefined })) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...VARIABLE_TEMPLATES), variables).map(([query, vars]) => JSON.stringify({ query, variables: vars })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.tuple(document, fc.anything()).map(([query, extra]) => JSON.stringify({ query, operationName: extra, extensions: extra })) },
  { weight: 1, arbitrary: fc.array(document, { maxLength: 3 }).map((qs) => JSON.stringify(qs.map((query) => ({ query })))) },
);
const contentType = fc.constantFrom('application/json', 'application/json', 'application/graphql', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '');
const wsFrame = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.string({ maxLength: 6 }), document, fc.option(variables)).map(([id, query, vars]) => JSON.stringify({ type: 'subscribe', id: `f${id}`, payload: { query, variables: vars ?? undefined } })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...VARIABLE_TEMPLATES), variables).map(([query, vars]) => JSON.stringify({ type: 'subscribe', id: `v${Math.random()}`, payload: { query, variables: vars } })) },
  { weight: 1, arbitrary: fc.constantFrom('ping', 'pong', 'complete', 'next', 'error', 'connection_init', 'nope').map((type) => JSON.stringify({ type, id: 'x' })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
);

/**
 * fetch, resent once when the transport fails before any answer ("fetch failed"): on a loaded
 * machine undici can reuse a keep-alive socket the server has just closed as idle. The resent
 * request must then get a clean answer like any other; a server that is down fails both.
 */
async function send(url: string | URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if ((err as Error).name === 'AbortError' || !String(err).includes('fetch failed')) throw err;
    return fetch(url, init);
  }
}

/** Runs `tasks` with at most `width` in flight. */
async function pool<T>(items: T[], width: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await run(items[i]!, i);
    }
  }));
}

describe('fuzzing (seeded, over HTTP, WebSocket and SSE)', () => {
  let t: TestDatabase;
  let server: TestServer;
  const tokens: Array<string | null> = [null];

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    const alice = await makeUser(t.db, { username: 'alice' });
    const worker = await makeUser(t.db, { username: 'worker', scopes: ['worker'] });
    const admin = await makeUser(t.db, { username: 'root', admin: true });
    for (let i = 0; i < 5; i++) {
      const chat = await insertChat(t.db, alice.user.id, { title: `chat ${i}`, labels: { repo: 'web' } });
      await insertMessage(t.db, chat, { role: 'user', text: 'hello' });
      await insertMessage(t.db, chat, { role: 'assistant', text: 'hi', model: MODEL.priced, input: 10, output: 5 });
    }
    tokens.push(alice.token, worker.token, admin.token, 'cg_garbage', `cg_${'0'.repeat(32)}_${'A'.repeat(43)}`);
    server = await startTestServer(t.db, { MAX_BODY_BYTES: '200000' });
  });
  afterAll(async () => {
    await server?.stop();
    await t.close();
  });

  it('10,000+ malformed inputs: 0 5xx, 0 INTERNAL_SERVER_ERROR, 0 leaks, process up, tables unchanged', async () => {
    const before = await tableFingerprint(t.db);
    const failures: string[] = [];
    const counts = { http: 0, sse: 0, ws: 0, wsCloses: 0 };
    const check = (where: string, status: number, text: string) => {
      if (status >= 500 || LEAK.test(text)) failures.push(`${where}: ${status} ${text.slice(0, 300)}`);
    };

    // HTTP POST: documents, variables, raw bodies, content types, tokens.
    const posts = fc.sample(fc.tuple(httpBody, contentType, fc.nat(tokens.length - 1)), { seed: SEED, numRuns: RUNS * 2 });
    await pool(posts, 8, async ([body, type, tk], i) => {
      const token = tokens[tk];
      const res = await send(server.url, { method: 'POST', headers: { ...(type ? { 'content-type': type } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) }, body });
      counts.http++;
      check(`post #${i} ${body.slice(0, 200)}`, res.status, await res.text());
    });

    // GET and SSE: query strings, accept headers, streams read for their first event.
    const gets = fc.sample(fc.tuple(document, fc.option(variables), fc.boolean(), fc.nat(tokens.length - 1)), { seed: SEED + 1, numRuns: RUNS });
    await pool(gets, 8, async ([query, vars, sse, tk], i) => {
      const token = tokens[tk];
      const sub = sse ? `subscription ${query.replace(/^\s*(query|mutation)?\s*/, '')}` : query;
      const url = new URL(server.url);
      url.searchParams.set('query', sub);
      if (vars) url.searchParams.set('variables', JSON.stringify(vars).slice(0, 4000));
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), 1500);
      try {
        const res = await send(url, { headers: { accept: sse ? 'text/event-stream' : 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal: abort.signal });
        const reader = res.body!.getReader();
        const first = await reader.read().catch(() => ({ value: undefined }));
        check(`get #${i} ${sub.slice(0, 200)}`, res.status, first.value ? new TextDecoder().decode(first.value) : '');
        await reader.cancel().catch(() => undefined);
      } catch (err) {
        if ((err as Error).name !== 'AbortError') failures.push(`get #${i}: ${String(err)}`);
      } finally {
        clearTimeout(timer);
        counts.sse++;
      }
    });

    // WebSocket frames on a few sockets; a socket the server closes is reopened.
    const frames = fc.sample(wsFrame, { seed: SEED + 2, numRuns: RUNS * 2 });
    const lanes = 4;
    await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
      let ws: WebSocket | null = null;
      const open = async () => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        socket.on('message', (data) => check(`ws lane ${lane}`, 200, String(data)));
        socket.on('error', () => undefined);
        socket.on('close', (code) => {
          counts.wsCloses++;
          // 1000/1001 normal, 1009 too big, 44xx: a message the server cannot handle. Never 4500/1011.
          if (code === 4500 || code === 1011) failures.push(`ws lane ${lane}: closed ${code}`);
          if (ws === socket) ws = null;
        });
        await new Promise((r) => socket.once('open', r));
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authToken: tokens[1 + (lane % 3)] } }));
        await new Promise((r) => socket.once('message', r));
        ws = socket;
      };
      for (let i = lane; i < frames.length; i += lanes) {
        if (!ws) await open();
        (ws as WebSocket | null)?.send(frames[i]!);
        counts.ws++;
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 300));
      (ws as WebSocket | null)?.close();
    }));

    const total = counts.http + counts.sse + counts.ws;
    console.log(`fuzz seed ${SEED}: ${total} inputs (HTTP ${counts.http}, GET/SSE ${counts.sse}, WebSocket frames ${counts.ws}; ${counts.wsCloses} socket closes), ${failures.length} failures`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(total).toBeGreaterThanOrEqual(10_000);
    expect((await fetch(server.url.replace(/\/graphql$/, '/health'))).status).toBe(200);
    expect(await tableFingerprint(t.db)).toEqual(before);
  }, 400_000);
});
