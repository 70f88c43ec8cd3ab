import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { insertChat, insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { end, received, subscribed } from './helpers/subscriptions.js';

// Small queue events: QUEUE_UPDATE's `queueChange` says what changed (added, updated, removed,
// the new length), so a client applies it to the queue it holds and the event stays the size
// of the change, however long the queue. Real mutations over HTTP, a real graphql-ws client.

const QUEUE_EVENTS = `subscription ($id: ID!) { chatEvents(chatId: $id) { kind version
  queueChange { added { id parts { ... on ChatTextPart { text } } } updated { id } removedIds length } } }`;

interface QueueEvent {
  chatEvents: { kind: string; version: string; queueChange: { added: Array<{ id: string; parts: Array<{ text: string }> }>; updated: Array<{ id: string }>; removedIds: string[]; length: number } | null };
}

const SEND = `mutation ($chatId: ID!, $text: String!) { sendChatMessage(input: { chatId: $chatId, content: [{ type: TEXT, text: $text }] }) {
  __typename ... on SendChatMessagePayload { queued queuedMessage { id } } } }`;
const DELETE = `mutation ($chatId: ID!, $id: ID!) { deleteQueuedMessage(input: { chatId: $chatId, queuedMessageId: $id }) { __typename } }`;

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

describe('QUEUE_UPDATE queueChange', () => {
  it('says what each change did, and a client applying the changes holds the same queue as Chat.queuedMessages', async () => {
    const chatId = encodeGlobalID('Chat', await insertChat(t.db, alice.user.id, { status: 'running' }));
    const sub = await subscribed<QueueEvent>(server.app, server.ws({ authToken: alice.token }), QUEUE_EVENTS, { id: chatId });

    // A long queue of large messages: each event still carries only its own change.
    const big = 'q'.repeat(200_000);
    const queuedIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sent = await server.gql<{ sendChatMessage: { __typename: string; queued: boolean; queuedMessage: { id: string } } }>(SEND, { chatId, text: `${i}:${big}` }, alice.token);
      expect(sent.data?.sendChatMessage).toMatchObject({ __typename: 'SendChatMessagePayload', queued: true });
      queuedIds.push(sent.data!.sendChatMessage.queuedMessage.id);
    }
    const deleted = await server.gql<{ deleteQueuedMessage: { __typename: string } }>(DELETE, { chatId, id: queuedIds[2] }, alice.token);
    expect(deleted.data?.deleteQueuedMessage.__typename).toBe('ChatPayload');

    const events = (await received(sub, 6)).map((d) => d.chatEvents);
    expect(events.map((e) => e.kind)).toEqual(Array(6).fill('QUEUE_UPDATE'));
    for (const [i, e] of events.slice(0, 5).entries()) {
      expect(e.queueChange).toMatchObject({ added: [{ id: queuedIds[i] }], updated: [], removedIds: [], length: i + 1 });
      expect(e.queueChange!.added[0]!.parts[0]!.text.startsWith(`${i}:`)).toBe(true);
    }
    expect(events[5]!.queueChange).toEqual({ added: [], updated: [], removedIds: [queuedIds[2]], length: 4 });
    // Each frame is about one message (≈200 KB), not the queue so far (up to 1 MB).
    for (const result of sub.results) expect(JSON.stringify(result).length).toBeLessThan(250_000);

    // The client recipe: drop removed, replace updated, append added; compare the length.
    let held: string[] = [];
    for (const e of events) {
      const change = e.queueChange!;
      held = held.filter((id) => !change.removedIds.includes(id));
      for (const q of change.added) if (!held.includes(q.id)) held.push(q.id);
      expect(held.length).toBe(change.length);
    }
    const fetched = await server.gql<{ node: { queuedMessages: Array<{ id: string }> } }>(
      'query ($id: ID!) { node(id: $id) { ... on Chat { queuedMessages { id } } } }',
      { id: chatId },
      alice.token,
    );
    expect(fetched.data!.node.queuedMessages.map((q) => q.id)).toEqual(held);
    await end(server.app, sub);
  });

  it('an edit in place is `updated`; a clear removes every id; other kinds carry no queueChange', async () => {
    const raw = await insertChat(t.db, alice.user.id, { status: 'running' });
    const chatId = encodeGlobalID('Chat', raw);
    const ids = await t.db.map(
      "INSERT INTO chat_queued_messages (chat_id, content) SELECT $1, '[{\"type\":\"text\",\"text\":\"a\"}]'::jsonb FROM generate_series(1, 3) RETURNING id::text",
      [raw],
      (r: { id: string }) => encodeGlobalID('ChatQueuedMessage', r.id),
    );
    const sub = await subscribed<QueueEvent>(server.app, server.ws({ authToken: alice.token }), QUEUE_EVENTS, { id: chatId });
    await t.db.none(`UPDATE chat_queued_messages SET content = '[{"type":"text","text":"edited"}]' WHERE chat_id = $1 AND id = (SELECT min(id) FROM chat_queued_messages WHERE chat_id = $1)`, [raw]);
    // Delivered before the clear below, so the edited row is still queued when its batch loads.
    await received(sub, 1);
    await t.db.none('DELETE FROM chat_queued_messages WHERE chat_id = $1', [raw]);
    await t.db.none("UPDATE chats SET title = 'x' WHERE id = $1", [raw]);
    const events = (await received(sub, 3)).map((d) => d.chatEvents);
    expect(events[0]).toMatchObject({ kind: 'QUEUE_UPDATE', queueChange: { added: [], updated: [{ id: ids[0] }], removedIds: [], length: 3 } });
    expect(events[1]).toMatchObject({ kind: 'QUEUE_UPDATE', queueChange: { added: [], updated: [], removedIds: ids, length: 0 } });
    expect(events[2]).toMatchObject({ kind: 'TITLE', queueChange: null });
    expect(BigInt(events[2]!.version)).toBeGreaterThan(BigInt(events[1]!.version));
    await end(server.app, sub);
  });

  it('an event written before migration 0009 (no ids in it) answers empty lists and the queue length at delivery', async () => {
    const raw = await insertChat(t.db, alice.user.id, { status: 'running' });
    await t.db.none("INSERT INTO chat_queued_messages (chat_id, content) SELECT $1, '[]' FROM generate_series(1, 2)", [raw]);
    const sub = await subscribed<QueueEvent>(server.app, server.ws({ authToken: alice.token }), QUEUE_EVENTS, { id: encodeGlobalID('Chat', raw) });
    // What the earlier trigger wrote: the kind and the chat, no change lists.
    await t.db.none("INSERT INTO chat_events (kind, chat_id, owner_id, version, data) SELECT 'queue', id, owner_id, version, '{}' FROM chats WHERE id = $1", [raw]);
    const [event] = (await received(sub, 1)).map((d) => d.chatEvents);
    expect(event).toMatchObject({ kind: 'QUEUE_UPDATE', queueChange: { added: [], updated: [], removedIds: [], length: 2 } });
    await end(server.app, sub);
  });
});
