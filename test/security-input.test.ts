import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertModels } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collect, finished, received } from './helpers/subscriptions.js';
import { tableFingerprint } from './helpers/tables.js';

const RESULT = '__typename ... on Error { message } ... on ValidationError { field }';

/** A raw HTTP/1.1 POST with a chunked body (no Content-Length), streamed in `chunks` pieces. */
function chunkedPost(url: string, token: string, body: string, chunks: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', (err) => (String(err).includes('EPIPE') || String(err).includes('ECONNRESET') ? undefined : reject(err)));
    const size = Math.ceil(body.length / chunks);
    for (let i = 0; i < body.length; i += size) req.write(body.slice(i, i + size));
    req.end();
  });
}

describe('bad input never reaches Postgres as an error; limits never 5xx', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let worker: TestUser;
  let chatId: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db, { username: 'alice' });
    worker = await makeUser(t.db, { username: 'wrk', scopes: ['worker'] });
    chatId = await insertChat(t.db, alice.user.id, { title: 'mine' });
    server = await startTestServer(t.db, { MAX_BODY_BYTES: '100000', MAX_RESPONSE_BYTES: '200000' });
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  const gid = (id: string) => encodeGlobalID('Chat', id);

  it('NUL characters and lone surrogates in any string input are a ValidationError naming the field, and write nothing', async () => {
    const before = await tableFingerprint(t.db);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['createChat', { content: [{ type: 'TEXT', text: 'a\u0000b' }] }, 'input.content[0].text'],
      ['createChat', { content: [{ type: 'TEXT', text: 'ok' }], title: 'x\u0000' }, 'input.title'],
      ['createChat', { content: [{ type: 'TEXT', text: 'ok' }], labels: { ['k\u0000']: 'v' } }, 'input.labels.k\u0000'],
      ['createChat', { content: [{ type: 'FILE', fileId: 'f\u0000' }] }, 'input.content[0].fileId'],
      ['createChat', { content: [{ type: 'TEXT', text: 'lone \ud800 surrogate' }] }, 'input.content[0].text'],
      ['updateChat', { chatId: gid(chatId), labels: { k: 'v\u0000' } }, 'input.labels.k'],
      ['sendChatMessage', { chatId: gid(chatId), content: [{ type: 'TEXT', text: '\u0000' }] }, 'input.content[0].text'],
    ];
    for (const [mutation, input, field] of cases) {
      const type = `${mutation[0]!.toUpperCase()}${mutation.slice(1)}Input`;
      const res = await server.gql<Record<string, { __typename: string; field: string; message: string }>>(`mutation($input: ${type}!) { ${mutation}(input: $input) { ${RESULT} } }`, { input }, alice.token);
      expect(res.status).toBe(200);
      expect(res.data?.[mutation]).toMatchObject({ __typename: 'ValidationError', field });
      expect(res.data?.[mutation]?.message).toMatch(/cannot be stored/);
    }
    // Worker inputs, JSON parts included.
    const append = await server.gql<{ appendChatMessages: { __typename: string; field: string } }>(
      `mutation($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { ${RESULT} } }`,
      { input: { chatId: gid(chatId), workerId: 'w1', messages: [{ role: 'ASSISTANT', parts: [{ type: 'text', text: 'x\u0000' }] }] } },
      worker.token,
    );
    expect(append.data?.appendChatMessages).toMatchObject({ __typename: 'ValidationError', field: 'input.messages[0].parts[0].text' });
    // Query arguments and filters: BAD_USER_INPUT naming the argument, never an internal error.
    const filter = await server.gql(`query($l: JSON) { chats(labels: $l) { totalCount } }`, { l: { repo: 'we\u0000b' } }, alice.token);
    expect(filter.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(filter.errors?.[0]?.message).toContain('labels.repo');
    const literal = await server.gql(`{ chats(labels: { repo: "a\\u0000" }) { totalCount } }`, {}, alice.token);
    expect(literal.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await tableFingerprint(t.db)).toEqual(before);
  });

  it('JSON nested past the input depth limit is a ValidationError, not a database error', async () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 3000; i++) deep = { a: deep };
    const res = await server.gql<{ updateChat: { __typename: string; field: string } }>(
      `mutation($input: UpdateChatInput!) { updateChat(input: $input) { ${RESULT} } }`,
      { input: { chatId: gid(chatId), labels: deep } },
      alice.token,
    );
    expect(res.status).toBe(200);
    expect(res.data?.updateChat.__typename).toBe('ValidationError');
    expect(res.data?.updateChat.field).toMatch(/^input\.labels(\.a)+$/);
  });

  it('usage beyond 64 bits is a ValidationError on that message, nothing written', async () => {
    const running = await insertChat(t.db, alice.user.id, { status: 'running' });
    await t.db.none(`UPDATE chats SET worker_id = 'w1' WHERE id = $1`, [running]);
    const before = await tableFingerprint(t.db);
    const res = await server.gql<{ appendChatMessages: { __typename: string; field: string } }>(
      `mutation($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { ${RESULT} } }`,
      { input: { chatId: gid(running), workerId: 'w1', messages: [{ role: 'ASSISTANT', parts: [{ type: 'text', text: 'hi' }], usage: { inputTokens: '9223372036854775807', outputTokens: '9223372036854775807' } }] } },
      worker.token,
    );
    expect(res.data?.appendChatMessages.__typename).toBe('ValidationError');
    expect(res.data?.appendChatMessages.field).toMatch(/^messages\[0\]\.usage/);
    expect(await tableFingerprint(t.db)).toEqual(before);
  });

  it('a document nested 2,000 levels deep is a parse error (400), anonymous or not', async () => {
    const query = `{ chats(labels: ${'['.repeat(2000)}${']'.repeat(2000)}) { totalCount } }`;
    for (const token of [null, alice.token]) {
      const res = await server.gql(query, {}, token);
      expect(res.status).toBe(400);
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    }
  });

  it('the body limit is counted while reading: chunked bodies over it get 413, compressed bodies 415', async () => {
    const big = JSON.stringify({ query: '{ viewer { id } }', variables: { pad: 'x'.repeat(150_000) } });
    const res = await chunkedPost(server.url, alice.token, big, 50);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    // A small chunked body is read and answered.
    const small = await chunkedPost(server.url, alice.token, JSON.stringify({ query: '{ viewer { username } }' }), 3);
    expect(small.status).toBe(200);
    expect(JSON.parse(small.text)).toEqual({ data: { viewer: { username: 'alice' } } });
    // Anonymous: refused for size the same way, before anything looks at the token.
    expect((await chunkedPost(server.url, 'cg_bad', big, 10)).status).toBe(413);
    const gz = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${alice.token}` },
      body: gzipSync(big),
    });
    expect(gz.status).toBe(415);
  });

  it('the cost limit multiplies list sizes: nested pages are refused before they run; the dashboard is not', async () => {
    const nested = '{ chats(first: 100) { nodes { messages(first: 100) { nodes { parts { ... on ChatTextPart { text } } } } children { id } } } }';
    const res = await server.gql(nested, {}, alice.token);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'COST_LIMIT_EXCEEDED', limit: 100_000 } });
    expect(res.data ?? null).toBeNull();
    // Variables count: the same shape with first = $n is refused for 100 and allowed for 2.
    const withVars = 'query($n: Int) { chats(first: $n) { nodes { messages(first: $n) { nodes { parts { ... on ChatTextPart { text } } } } } } }';
    expect((await server.gql(withVars, { n: 100 }, alice.token)).errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
    expect((await server.gql(withVars, { n: 2 }, alice.token)).errors).toBeUndefined();
    const dashboard = `{ chats(first: 100, archived: false) { totalCount pageInfo { hasNextPage endCursor } nodes {
      id title status lastError pinOrder labels updatedAt
      lastModelConfig { displayName pricing { inputPricePerMillionTokens outputPricePerMillionTokens } }
      diffStatus { pullRequestState pullRequestTitle pullRequestDraft headBranch additions deletions url }
      queuedMessages { id parts { ... on ChatTextPart { text } } modelConfig { displayName } }
      lastTurnSummary hasUnread cost { totalCostMicros pricedMessageCount unpricedMessageCount totalCacheReadTokens }
      children { id title status } } } }`;
    expect((await server.gql(dashboard, {}, alice.token)).errors).toBeUndefined();
  });

  it('a response over MAX_RESPONSE_BYTES is refused with one RESPONSE_TOO_LARGE error', async () => {
    const heavy = await makeUser(t.db, { username: 'heavy' });
    const text = 'y'.repeat(60_000);
    for (let i = 0; i < 3; i++) {
      const id = await insertChat(t.db, heavy.user.id, { status: 'running' });
      await t.db.none(`INSERT INTO chat_queued_messages (chat_id, content) SELECT $1, $2::jsonb FROM generate_series(1, 2)`, [id, JSON.stringify([{ type: 'text', text }])]);
    }
    const q = '{ chats { nodes { queuedMessages { parts { ... on ChatTextPart { text } } } } } }';
    const res = await server.gql(q, {}, heavy.token);
    expect(res.status).toBe(200);
    expect(res.data ?? null).toBeNull();
    expect(res.errors).toEqual([expect.objectContaining({ extensions: { code: 'RESPONSE_TOO_LARGE', limit: 200_000 } })]);
    // Under the bound (one chat's queue), the same fields answer.
    const one = await server.gql('{ chats(first: 1) { nodes { queuedMessages { parts { ... on ChatTextPart { text } } } } } }', {}, heavy.token);
    expect(one.errors).toBeUndefined();
  });

  it('the response bound is per event: a subscription carrying more than MAX_RESPONSE_BYTES in all keeps going', async () => {
    const running = await insertChat(t.db, alice.user.id, { status: 'running' });
    await t.db.none(`UPDATE chats SET worker_id = 'w2' WHERE id = $1`, [running]);
    const client = server.ws({ authToken: alice.token });
    const sub = collect<{ chatEvents: { kind: string; message: { parts: Array<{ text: string }> } | null } }>(
      client,
      'subscription($id: ID!) { chatEvents(chatId: $id) { kind message { parts { ... on ChatTextPart { text } } } } }',
      { id: gid(running) },
    );
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    const text = 'z'.repeat(60_000);
    for (let i = 0; i < 5; i++) {
      const res = await server.gql<{ appendChatMessages: { __typename: string } }>(
        `mutation($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { ${RESULT} } }`,
        { input: { chatId: gid(running), workerId: 'w2', messages: [{ role: 'ASSISTANT', parts: [{ type: 'text', text: `${i}${text}` }] }] } },
        worker.token,
      );
      expect(res.data?.appendChatMessages.__typename).toBe('AppendChatMessagesPayload');
    }
    await expect.poll(() => sub.data.filter((d) => d.chatEvents.kind === 'MESSAGE').length, { timeout: 10_000 }).toBe(5);
    expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
    sub.unsubscribe();
  });

  it('over WebSocket every limit rejection is an error message for that operation; the socket and its other subscriptions live on', async () => {
    const client = server.ws({ authToken: alice.token });
    const watch = collect(client, 'subscription { chatWatch { kind chat { id } } }');
    const aliases = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;
    const deep = `{ chats { nodes { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }`;
    const costly = '{ chats(first: 100) { nodes { messages(first: 100) { nodes { parts { ... on ChatTextPart { text } } } } } } }';
    const directives = `{ viewer { id ${'@include(if: true) '.repeat(30)} } }`;
    const nested = `{ chats(labels: ${'['.repeat(2000)}${']'.repeat(2000)}) { totalCount } }`;
    for (const query of [aliases, deep, costly, directives, nested, '{ viewer { id ']) {
      const op = collect(client, query);
      await finished(op);
      expect(Array.isArray(op.error), query.slice(0, 40)).toBe(true);
      expect((op.error as Array<{ message: string }>)[0]!.message).toBeTruthy();
    }
    // The first subscription still receives events.
    await t.db.none(`UPDATE chats SET title = 'renamed' WHERE id = $1`, [chatId]);
    await received(watch, 1);
    expect(watch.error).toBeUndefined();
  });

  it('a WebSocket message the server cannot handle closes the socket with a 44xx code', async () => {
    const codes: number[] = [];
    for (const frame of ['not json', JSON.stringify({ type: 'subscribe', id: 1 }), JSON.stringify({ type: 'nope' })]) {
      const ws = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      await new Promise((r) => ws.once('open', r));
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authToken: alice.token } }));
      await new Promise((r) => ws.once('message', r));
      ws.send(frame);
      codes.push(await new Promise<number>((r) => ws.once('close', (code) => r(code))));
    }
    expect(codes.every((c) => c >= 4400 && c < 4500)).toBe(true);
  });
});
