import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const PROMPT = `query ($id: ID!) { chat(id: $id) { title promptMessages { databaseId role parts { ... on ChatTextPart { text } } } } }`;

describe('promptMessages and unreadable content', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let worker: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db);
    worker = await makeUser(t.db, { scopes: ['worker'] });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('an unknown content version is an error on that message only; the chat and the other prompt messages stay', async () => {
    const chat = await insertChat(t.db, alice.user.id, { title: 'future' });
    const system = await insertMessage(t.db, chat, { role: 'system', text: 'be brief' });
    const future = await insertMessage(t.db, chat, { role: 'assistant', version: 7, content: [{ type: 'text', text: 'from the future' }] });
    const user = await insertMessage(t.db, chat, { role: 'user', text: 'go on' });
    const res = await server.gql<any>(PROMPT, { id: encodeGlobalID('Chat', chat) }, worker.token);
    expect(res.data!.chat.title).toBe('future');
    expect(res.data!.chat.promptMessages).toEqual([
      { databaseId: system, role: 'SYSTEM', parts: [{ text: 'be brief' }] },
      null,
      { databaseId: user, role: 'USER', parts: [{ text: 'go on' }] },
    ]);
    expect(res.errors).toEqual([
      expect.objectContaining({ message: 'unknown content version 7', extensions: { code: 'UNREADABLE_CONTENT' }, path: ['chat', 'promptMessages', 1, 'parts'] }),
    ]);
    expect(future).not.toBe(user);
  });
});
