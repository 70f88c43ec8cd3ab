import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { insertChat, insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Identical subscriptions share one execution per event, and the event's result is serialised
// once for all of them (src/webSocketFrames.ts): counted by /metrics, checked frame by frame.

const TITLES = 'subscription ($id: ID!) { chatEvents(chatId: $id) { kind version chat { title } } }';
const SOCKETS = 2;
const PER_SOCKET = 3;
const EVENTS = 5;

let t: TestDatabase;
let server: TestServer;
let alice: TestUser;

beforeAll(async () => {
  t = await createTestDatabase();
  await insertModels(t.db);
  alice = await makeUser(t.db);
  server = await startTestServer(t.db);
});

afterAll(async () => {
  await server?.stop();
  await t?.close();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', server.url))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** A raw graphql-transport-ws connection that records every frame it receives, as sent. */
async function rawSocket(token: string) {
  const ws = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  const frames: string[] = [];
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const acked = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authToken: token } }));
  await acked;
  ws.on('message', (data) => frames.push(String(data)));
  return { ws, frames, subscribe: (id: string, query: string, variables: object) => ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } })) };
}

describe('shared frames', () => {
  it('serialises each event once for every identical subscription, on every socket, and the frames are graphql-ws frames', async () => {
    const chatId = await insertChat(t.db, alice.user.id);
    const variables = { id: encodeGlobalID('Chat', chatId) };
    const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => rawSocket(alice.token)));
    for (const [s, socket] of sockets.entries()) for (let i = 0; i < PER_SOCKET; i++) socket.subscribe(`op-${s}-${i}`, TITLES, variables);
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(SOCKETS * PER_SOCKET);
    expect(server.app.eventStream.subscriberCount).toBe(1); // one shared execution

    const framesBefore = await metric('chatgraph_ws_next_frames_total');
    const serialisedBefore = await metric('chatgraph_ws_payload_serializations_total');
    for (let i = 0; i < EVENTS; i++) await t.db.none('UPDATE chats SET title = $2 WHERE id = $1', [chatId, `title "${i}" \u00e9\u{1F600}`]);
    await expect.poll(() => sockets.reduce((n, s) => n + s.frames.length, 0), { timeout: 10_000 }).toBe(SOCKETS * PER_SOCKET * EVENTS);

    expect((await metric('chatgraph_ws_next_frames_total')) - framesBefore).toBe(SOCKETS * PER_SOCKET * EVENTS);
    expect((await metric('chatgraph_ws_payload_serializations_total')) - serialisedBefore).toBe(EVENTS);

    // Every frame is a well-formed `next` frame of its own operation, and the payloads of one
    // event are the same bytes on every subscription.
    const byOperation = new Map<string, string[]>();
    for (const socket of sockets) {
      for (const frame of socket.frames) {
        const message = JSON.parse(frame) as { id: string; type: string; payload: { data: { chatEvents: { kind: string; chat: { title: string } } } } };
        expect(message.type).toBe('next');
        expect(frame.startsWith(`{"id":${JSON.stringify(message.id)},"type":"next","payload":{`)).toBe(true);
        byOperation.set(message.id, [...(byOperation.get(message.id) ?? []), JSON.stringify(message.payload)]);
      }
    }
    for (const socket of sockets) socket.ws.close();
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(0);
    expect(byOperation.size).toBe(SOCKETS * PER_SOCKET);
    const [first, ...rest] = [...byOperation.values()] as [string[], ...string[][]];
    // `chat` is the state when the batch was loaded; `version` orders the events.
    const events = first.map((p) => (JSON.parse(p) as { data: { chatEvents: { kind: string; version: string; chat: { title: string } } } }).data.chatEvents);
    expect(events.map((e) => e.kind)).toEqual(Array(EVENTS).fill('TITLE'));
    for (let i = 1; i < EVENTS; i++) expect(BigInt(events[i]!.version)).toBeGreaterThan(BigInt(events[i - 1]!.version));
    expect(events.at(-1)!.chat.title).toBe(`title "${EVENTS - 1}" \u00e9\u{1F600}`);
    for (const other of rest) expect(other).toEqual(first);
  });

  it('subscriptions of their own on one socket get their own frames, errors included', async () => {
    const chatId = await insertChat(t.db, alice.user.id);
    const socket = await rawSocket(alice.token);
    // An unknown chat: the subscription answers a `next` with errors (a serialised GraphQLError), then completes.
    socket.subscribe('missing', TITLES, { id: encodeGlobalID('Chat', '00000000-0000-4000-8000-000000000000') });
    socket.subscribe('mine', TITLES, { id: encodeGlobalID('Chat', chatId) });
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => socket.frames.length, { timeout: 10_000 }).toBe(2);
    await t.db.none('UPDATE chats SET title = $2 WHERE id = $1', [chatId, 'renamed']);
    await expect.poll(() => socket.frames.length, { timeout: 10_000 }).toBe(3);
    const frames = socket.frames.map((f) => JSON.parse(f) as { id: string; type: string; payload?: unknown });
    expect(frames.filter((f) => f.id === 'missing')).toEqual([
      { id: 'missing', type: 'next', payload: { errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'NOT_FOUND' }) })] } },
      { id: 'missing', type: 'complete' },
    ]);
    expect(frames.filter((f) => f.id === 'mine')).toMatchObject([{ id: 'mine', type: 'next', payload: { data: { chatEvents: { kind: 'TITLE', chat: { title: 'renamed' } } } } }]);
    socket.ws.close();
  });

  it('a large payload (sent as one shared buffer in fragments) arrives whole and identical on every subscription', async () => {
    const raw = await insertChat(t.db, alice.user.id);
    const variables = { id: encodeGlobalID('Chat', raw) };
    const QUEUE = 'subscription ($id: ID!) { chatEvents(chatId: $id) { kind queuedMessages { parts { ... on ChatTextPart { text } } } } }';
    const sockets = await Promise.all([rawSocket(alice.token), rawSocket(alice.token)]);
    for (const [s, socket] of sockets.entries()) for (let i = 0; i < 2; i++) socket.subscribe(`big-${s}-${i}`, QUEUE, variables);
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(4);
    // 200,000 characters, some outside ASCII: the shared bytes are UTF-8, the frame a text message.
    const text = `${'é\u{1F600}"\\'.repeat(20_000)}${'x'.repeat(100_000)}`;
    await t.db.none('INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, $2::jsonb)', [raw, JSON.stringify([{ type: 'text', text }])]);
    await expect.poll(() => sockets.reduce((n, s) => n + s.frames.length, 0), { timeout: 10_000 }).toBe(4);
    const frames = sockets.flatMap((s) => s.frames);
    for (const frame of frames) {
      const message = JSON.parse(frame) as { type: string; payload: { data: { chatEvents: { queuedMessages: Array<{ parts: Array<{ text: string }> }> } } } };
      expect(message.type).toBe('next');
      expect(message.payload.data.chatEvents.queuedMessages[0]!.parts[0]!.text).toBe(text);
    }
    expect(new Set(frames.map((f) => f.slice(f.indexOf('"payload":')))).size).toBe(1);
    for (const socket of sockets) socket.ws.close();
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(0);
  });
});
