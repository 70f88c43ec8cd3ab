import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeEventCursor } from '../src/events/cursor.js';
import { MODEL, insertChat, insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { quietLogger } from './helpers/events.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { end, received, subscribed, collect, type Collected } from './helpers/subscriptions.js';
import { recordOperation } from './helpers/operations.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WATCH = 'subscription ($after: String) { chatWatch(after: $after) { cursor kind chat { id title } } }';
const EVENTS = 'subscription ($chatId: ID!, $after: String) { chatEvents(chatId: $chatId, after: $after) { cursor kind message { databaseId } } }';

interface Watch { chatWatch: { cursor: string; kind: string; chat: { id: string; title: string } } }
interface Stream { chatEvents: { cursor: string; kind: string; message: { databaseId: string } | null } }

let tdb: TestDatabase;
let local: TestServer;
let alice: TestUser;
/** A second gateway: a real `chatgraph start` process on the same database. */
let other: { child: ChildProcess; url: string; clients: Client[] };

function startOther(url: string): Promise<{ child: ChildProcess; url: string; clients: Client[] }> {
  const env = { ...process.env, DATABASE_URL: url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'error', GRAPHIQL: 'false' };
  const child = spawn(process.execPath, [join(root, 'bin/chatgraph.js'), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`second gateway did not start:\n${out}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`second gateway exited ${code}:\n${out}`)));
    child.stdout!.on('data', () => {
      const served = /serving GraphQL at (\S+)/.exec(out)?.[1];
      if (served) {
        clearTimeout(timer);
        resolve({ child, url: served, clients: [] });
      }
    });
  });
}

function otherClient(user: TestUser): Client {
  const client = createClient({ url: other.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { authToken: user.token }, retryAttempts: 0 });
  other.clients.push(client);
  return client;
}

async function gqlOn(url: string, token: string, query: string, variables: Record<string, unknown>) {
  recordOperation(query, variables);
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, Record<string, unknown>>; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  tdb = await createTestDatabase({ poolSize: 12 });
  await insertModels(tdb.db);
  alice = await makeUser(tdb.db);
  // The killed backend makes the listener warn on purpose: keep that out of the output.
  [local, other] = await Promise.all([startTestServer(tdb.db, {}, { eventStream: { logger: quietLogger } }), startOther(tdb.url)]);
});

afterAll(async () => {
  await Promise.all((other?.clients ?? []).map((c) => c.dispose()));
  if (other && other.child.exitCode === null) {
    const exited = new Promise((r) => other.child.once('exit', r));
    other.child.kill('SIGTERM');
    await exited;
  }
  await local?.stop();
  await tdb?.close();
});

describe('two gateway processes on one database', () => {
  let lastCursor: string;

  it('a mutation through the other process reaches a subscriber here', async () => {
    const sub = await subscribed<Watch>(local.app, local.ws({ authToken: alice.token }), WATCH);
    const data = await gqlOn(other.url, alice.token, 'mutation ($input: CreateChatInput!) { createChat(input: $input) { ... on ChatMessagePayload { chat { id } } } }', {
      input: { title: 'from the other process', content: [{ type: 'TEXT', text: 'hi' }] },
    });
    const chatId = (data.createChat!.chat as { id: string }).id;
    const [event] = await received(sub, 1);
    expect(event!.chatWatch).toMatchObject({ kind: 'CREATED', chat: { id: chatId, title: 'from the other process' } });
    lastCursor = event!.chatWatch.cursor;
    await end(local.app, sub);
  });

  it('a mutation through this process reaches a subscriber on the other', async () => {
    const chat = await gqlOn(local.url, alice.token, 'query { chats(first: 1) { nodes { id } } }', {});
    const chatId = (chat.chats!.nodes as Array<{ id: string }>)[0]!.id;
    // Resuming from a known cursor makes the test independent of when the other process registers it.
    const sub = collect<Watch>(otherClient(alice), WATCH, { after: lastCursor });
    await gqlOn(local.url, alice.token, 'mutation ($input: UpdateChatInput!) { updateChat(input: $input) { __typename } }', { input: { chatId, title: 'renamed here' } });
    const [event] = await received(sub, 1);
    expect(event!.chatWatch).toMatchObject({ kind: 'TITLE_CHANGE', chat: { id: chatId, title: 'renamed here' } });
    sub.unsubscribe();
  });
});

describe('killed LISTEN backend under concurrent writers', () => {
  it('every subscriber (both processes) receives every committed event exactly once, in commit order per chat', async () => {
    const chats = await Promise.all(Array.from({ length: 3 }, (_, i) => insertChat(tdb.db, alice.user.id, { title: `race ${i}`, model: MODEL.priced })));
    const start = await tdb.db.one<{ xid: string; seq: string }>('SELECT xid::text, seq::text FROM chat_events ORDER BY xid DESC, seq DESC LIMIT 1');
    const after = encodeEventCursor(start); // the other process replays from here, so it cannot miss the start

    const subs: Array<{ chat: string; sub: Collected<Stream> }> = [];
    for (const chat of chats) {
      for (let i = 0; i < 2; i++) subs.push({ chat, sub: await subscribed<Stream>(local.app, local.ws({ authToken: alice.token }), EVENTS, { chatId: encodeGlobalID('Chat', chat) }) });
      subs.push({ chat, sub: collect<Stream>(otherClient(alice), EVENTS, { chatId: encodeGlobalID('Chat', chat), after }) });
    }

    const committed: Array<{ chat: string; id: string }> = [];
    const writers = Promise.all(Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; i < 25; i++) {
        const chat = chats[(w + i) % chats.length]!;
        const rollback = (w * 25 + i) % 7 === 0;
        const id = await tdb.db.tx(async (t) => {
          await t.one('SELECT id FROM chats WHERE id = $1 FOR UPDATE', [chat]); // the lock first rule: lock first
          const row = await t.one<{ id: string }>(
            "INSERT INTO chat_messages (chat_id, role, content, content_version) VALUES ($1, 'assistant', $2::jsonb, 1) RETURNING id::text AS id",
            [chat, JSON.stringify([{ type: 'text', text: `w${w}#${i}` }])],
          );
          if (rollback) throw new Error('rollback');
          return row.id;
        }).catch((err: Error) => {
          if (err.message !== 'rollback') throw err;
          return undefined;
        });
        if (id) committed.push({ chat, id });
        await pause(Math.random() * 4);
      }
    }));

    const listener = local.app.eventStream.listener;
    for (const threshold of [15, 45]) {
      await expect.poll(() => committed.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(threshold);
      const pid = listener.backendPid!;
      await tdb.db.one('SELECT pg_terminate_backend($1)', [pid]);
      await expect.poll(() => listener.backendPid !== undefined && listener.backendPid !== pid, { timeout: 20_000 }).toBe(true);
    }
    await writers;
    expect(listener.connectCount).toBeGreaterThanOrEqual(3);

    for (const { chat, sub } of subs) {
      const expected = committed.filter((c) => c.chat === chat).map((c) => c.id).sort((a, b) => Number(a) - Number(b));
      await expect.poll(() => sub.data.map((d) => d.chatEvents.message?.databaseId), { timeout: 20_000 }).toEqual(expected);
      expect(sub.data.every((d) => d.chatEvents.kind === 'MESSAGE')).toBe(true);
      expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
    }
    for (const { sub } of subs) sub.unsubscribe();
    await expect.poll(() => local.app.liveSubscriptions).toBe(0);
  });
});
