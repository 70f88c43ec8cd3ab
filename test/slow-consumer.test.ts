import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { insertChat, insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collect } from './helpers/subscriptions.js';

// A client that stops reading must not grow the server's memory or hold up the clients that
// read: past the stall bound its socket is closed with the documented slow-consumer code 4008.

const EVENTS = 'subscription ($id: ID!) { chatEvents(chatId: $id) { cursor kind version queuedMessages { parts { ... on ChatTextPart { text } } } } }';
const EVENT_COUNT = 1000;
const PAYLOAD = 'x'.repeat(20_000); // each QUEUE_UPDATE carries the whole queue: ~20 KB per event

let t: TestDatabase;
let server: TestServer;
let alice: TestUser;

beforeAll(async () => {
  t = await createTestDatabase();
  await insertModels(t.db);
  alice = await makeUser(t.db);
  server = await startTestServer(t.db, { WS_STALL_MS: '1000' });
});

afterAll(async () => {
  await server?.stop();
  await t?.close();
});

/** A raw graphql-transport-ws client whose TCP reads can be paused. */
async function rawSubscriber(variables: Record<string, unknown>) {
  const ws = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  let closeCode: number | undefined;
  ws.on('close', (code) => (closeCode = code));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const acked = new Promise<void>((resolve) => ws.once('message', () => resolve()));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authToken: alice.token } }));
  await acked;
  ws.send(JSON.stringify({ id: 'slow', type: 'subscribe', payload: { query: EVENTS, variables } }));
  const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  return { stopReading: () => raw.pause(), resumeReading: () => raw.resume(), closeCode: () => closeCode, ws };
}

describe('slow consumers', () => {
  it('a socket that stops reading while 1,000 events flow is closed with 4008; the reading client gets every event; memory stays bounded', async () => {
    const chatId = await insertChat(t.db, alice.user.id);
    const variables = { id: encodeGlobalID('Chat', chatId) };

    const reader = collect<{ chatEvents: { kind: string; version: string } }>(server.ws({ authToken: alice.token }), EVENTS, variables);
    const slow = await rawSubscriber(variables);
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(2);
    expect(server.app.eventStream.subscriberCount).toBe(1); // identical operations: one shared execution
    // Queued after both subscribed, so both get it: counting starts from a known first event.
    await t.db.none("INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, $2::jsonb)", [chatId, JSON.stringify([{ type: 'text', text: PAYLOAD }])]);
    await expect.poll(() => reader.data.length, { timeout: 10_000 }).toBe(1);
    slow.stopReading();

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      for (let i = 0; i < EVENT_COUNT; i++) {
        await t.db.none('UPDATE chat_queued_messages SET content = $2::jsonb WHERE chat_id = $1', [chatId, JSON.stringify([{ type: 'text', text: `${PAYLOAD}${i}` }])]);
      }
      await expect.poll(() => reader.data.length, { timeout: 30_000 }).toBe(EVENT_COUNT + 1);
    } finally {
      clearInterval(sampler);
    }
    expect(reader.data.every((d) => d.chatEvents.kind === 'QUEUE_UPDATE')).toBe(true);
    // Exactly once, in order: one version per event, strictly increasing.
    const versions = reader.data.map((d) => BigInt(d.chatEvents.version));
    for (let i = 1; i < versions.length; i++) expect(versions[i]! > versions[i - 1]!).toBe(true);
    expect(reader.error).toBeUndefined();
    expect(reader.completed).toBe(false);
    // 1,000 events of ~20 KB (20 MB in all, twice over for two sockets) went through; the
    // process (server and both clients) grew by far less than that.
    const grewMiB = (peak - baseline) / 1024 / 1024;
    console.info(`slow-consumer test: peak RSS ${(peak / 1024 / 1024).toFixed(0)} MiB, +${grewMiB.toFixed(0)} MiB over the start`);
    expect(grewMiB).toBeLessThan(150);

    slow.resumeReading(); // let it read what was sent, then the close frame
    await expect.poll(() => slow.closeCode(), { timeout: 40_000 }).toBe(4008);
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(1);
    reader.unsubscribe();
  }, 90_000);
});
