import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { insertChat, insertModels, MODEL } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// chats.version: strictly increasing per chat with every change to its state, queue or diff
// status, stored on every chat event; never bumped by a message insert (the hot path).

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

const row = (chatId: string) => t.db.one<{ version: string; xmin: string }>('SELECT version::text AS version, xmin::text AS xmin FROM chats WHERE id = $1', [chatId]);
const version = async (chatId: string) => BigInt((await row(chatId)).version);

describe('chats.version', () => {
  it('increases with every change of state, queue and diff status, and not for writes that change nothing watched', async () => {
    const chatId = await insertChat(t.db, alice.user.id);
    const seen = [await version(chatId)];
    const changes: Array<[string, unknown[]]> = [
      ["UPDATE chats SET status = 'running' WHERE id = $1", [chatId]],
      ["UPDATE chats SET status = 'error', last_error = 'boom' WHERE id = $1", [chatId]],
      ["UPDATE chats SET title = 'renamed' WHERE id = $1", [chatId]],
      ['UPDATE chats SET last_model_config_id = $2 WHERE id = $1', [chatId, MODEL.gpt]],
      [`UPDATE chats SET labels = '{"repo":"web"}' WHERE id = $1`, [chatId]],
      ['UPDATE chats SET pin_order = 3 WHERE id = $1', [chatId]],
      ['UPDATE chats SET archived = true WHERE id = $1', [chatId]],
      ['UPDATE chats SET archived = false WHERE id = $1', [chatId]],
      ["INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, '[]'), ($1, '[]')", [chatId]],
      ['DELETE FROM chat_queued_messages WHERE chat_id = $1', [chatId]],
      ["INSERT INTO chat_diff_statuses (chat_id, url) VALUES ($1, 'https://example.test/pr/1')", [chatId]],
      ['UPDATE chat_diff_statuses SET additions = 5 WHERE chat_id = $1', [chatId]],
    ];
    for (const [statement, params] of changes) {
      await t.db.none(statement, params);
      seen.push(await version(chatId));
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]! > seen[i - 1]!, `change ${i}: ${changes[i - 1]![0]}`).toBe(true);

    const last = await version(chatId);
    await t.db.none('UPDATE chats SET heartbeat_at = now(), updated_at = now(), last_read_message_id = 1 WHERE id = $1', [chatId]);
    await t.db.none("UPDATE chats SET title = 'renamed', status = status WHERE id = $1", [chatId]);
    await t.db.none('UPDATE chat_diff_statuses SET refreshed_at = now() WHERE chat_id = $1', [chatId]);
    expect(await version(chatId)).toBe(last);
  });

  it('a same-model message insert leaves version and the chats row (xmin) untouched', async () => {
    const chatId = await insertChat(t.db, alice.user.id, { model: MODEL.priced });
    const before = await row(chatId);
    const message = { role: 'assistant' as const, visibility: 'both' as const, content: [{ type: 'text', text: 'hi' }], model_config_id: MODEL.priced, created_by: null };
    await t.db.messages.insert(chatId, [message, message], MODEL.priced);
    expect(await row(chatId)).toEqual(before);
    await t.db.messages.insert(chatId, [{ ...message, model_config_id: MODEL.gpt }], MODEL.gpt);
    expect(BigInt((await row(chatId)).version)).toBe(BigInt(before.version) + 1n);
  });

  it('every chat event stores the version the change produced; message events the current one', async () => {
    const chatId = await insertChat(t.db, alice.user.id);
    await t.db.none("UPDATE chats SET status = 'running', title = 'both' WHERE id = $1", [chatId]);
    await t.db.none("INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, '[]')", [chatId]);
    await t.db.none("INSERT INTO chat_messages (chat_id, role, content, content_version) VALUES ($1, 'user', '[]', 1)", [chatId]);
    const events = await t.db.any<{ kind: string; version: string }>(
      'SELECT kind, version::text AS version FROM chat_events WHERE chat_id = $1 ORDER BY xid, seq', [chatId]);
    expect(events).toEqual([
      { kind: 'chat_created', version: '1' },
      { kind: 'status', version: '2' },
      { kind: 'title', version: '2' },
      { kind: 'queue', version: '3' },
      { kind: 'message', version: '3' },
    ]);
  });

  it('is served as Chat.version and on subscription events', async () => {
    const chatId = await insertChat(t.db, alice.user.id);
    const res = await server.gql<{ chat: { version: string } }>('query ($id: ID!) { chat(id: $id) { version } }', { id: encodeGlobalID('Chat', chatId) }, alice.token);
    expect(res.data?.chat.version).toBe((await row(chatId)).version);

    const client = server.ws({ authToken: alice.token });
    const received: Array<{ kind: string; version: string; chat: { version: string } }> = [];
    const done = new Promise<void>((resolve, reject) => {
      const off = client.subscribe<{ chatEvents: (typeof received)[number] }>(
        { query: 'subscription ($id: ID!) { chatEvents(chatId: $id) { kind version chat { version } } }', variables: { id: encodeGlobalID('Chat', chatId) } },
        {
          next: (r) => {
            received.push(r.data!.chatEvents);
            if (received.length === 2) { off(); resolve(); }
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    // Wait until the hub holds the subscription before writing.
    for (let i = 0; i < 100 && server.app.eventStream.subscriberCount === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await t.db.none("UPDATE chats SET title = 'one' WHERE id = $1", [chatId]);
    await t.db.none("UPDATE chats SET title = 'two' WHERE id = $1", [chatId]);
    await done;
    expect(received.map((e) => [e.kind, e.version])).toEqual([['TITLE', '2'], ['TITLE', '3']]);
  });
});
