import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { end, received, subscribed } from './helpers/subscriptions.js';

const gid = (type: string, id: string) => encodeGlobalID(type, id);

const CHAT = `query ($id: ID!) { chat(id: $id) { lastTurnSummary hasUnread cost { totalCostMicros pricedMessageCount totalInputTokens } } }`;
const LIST = `{ chats(first: 50) { nodes { id lastTurnSummary hasUnread } } }`;
const NODE = `query ($id: ID!) { node(id: $id) { __typename ... on ChatMessage { databaseId visibility parts { ... on ChatTextPart { text } } } } }`;
const EVENTS = `subscription ($chatId: ID!) { chatEvents(chatId: $chatId) { kind message { databaseId visibility parts { ... on ChatTextPart { text } } } } }`;

/** Users never see model-only content: every user-facing path, one test each. */
describe('visibility: model-only content stays with the model', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let worker: TestUser;

  async function query<T = any>(doc: string, variables: Record<string, unknown>, token = alice.token): Promise<T> {
    const res = await server.gql<T>(doc, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data!;
  }

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

  it('lastTurnSummary comes from the last assistant message the user can see, on a chat and in the list', async () => {
    const chat = await insertChat(t.db, alice.user.id, { title: 'summary' });
    await insertMessage(t.db, chat, { role: 'assistant', text: 'The visible answer.' });
    await insertMessage(t.db, chat, { role: 'assistant', text: 'secret scaffolding', visibility: 'model' });
    const one = await query(CHAT, { id: gid('Chat', chat) });
    expect(one.chat.lastTurnSummary).toBe('The visible answer.');
    const list = await query(LIST, {});
    expect(list.chats.nodes.find((n: any) => n.id === gid('Chat', chat)).lastTurnSummary).toBe('The visible answer.');

    const onlyHidden = await insertChat(t.db, alice.user.id, { title: 'hidden only' });
    await insertMessage(t.db, onlyHidden, { role: 'assistant', text: 'secret', visibility: 'model' });
    expect((await query(CHAT, { id: gid('Chat', onlyHidden) })).chat.lastTurnSummary).toBeNull();
  });

  it('hasUnread ignores model-only assistant messages', async () => {
    const chat = await insertChat(t.db, alice.user.id, { title: 'unread' });
    const seen = await insertMessage(t.db, chat, { role: 'assistant', text: 'seen' });
    await t.db.none('UPDATE chats SET last_read_message_id = $2 WHERE id = $1', [chat, seen]);
    await insertMessage(t.db, chat, { role: 'assistant', text: 'secret', visibility: 'model' });
    expect((await query(CHAT, { id: gid('Chat', chat) })).chat.hasUnread).toBe(false);
    await insertMessage(t.db, chat, { role: 'assistant', text: 'new', visibility: 'user' });
    expect((await query(CHAT, { id: gid('Chat', chat) })).chat.hasUnread).toBe(true);
  });

  it('node(id) of a model-only message is null for the user, readable for a worker', async () => {
    const chat = await insertChat(t.db, alice.user.id, { title: 'node' });
    const hidden = await insertMessage(t.db, chat, { role: 'tool', text: 'tool output', visibility: 'model' });
    const shown = await insertMessage(t.db, chat, { role: 'assistant', text: 'shown' });
    expect((await query(NODE, { id: gid('ChatMessage', hidden) })).node).toBeNull();
    expect((await query(NODE, { id: gid('ChatMessage', shown) })).node).toMatchObject({ databaseId: shown, visibility: 'BOTH' });
    expect((await query(NODE, { id: gid('ChatMessage', hidden) }, worker.token)).node).toMatchObject({ databaseId: hidden, visibility: 'MODEL', parts: [{ text: 'tool output' }] });
  });

  it('chatEvents never carries a model-only message to the user; a worker gets it', async () => {
    const chat = await insertChat(t.db, alice.user.id, { title: 'events' });
    const userSub = await subscribed<{ chatEvents: any }>(server.app, server.ws({ authToken: alice.token }), EVENTS, { chatId: gid('Chat', chat) });
    const workerSub = await subscribed<{ chatEvents: any }>(server.app, server.ws({ authToken: worker.token }), EVENTS, { chatId: gid('Chat', chat) });
    const hidden = await insertMessage(t.db, chat, { role: 'assistant', text: 'secret plan', visibility: 'model' });
    const shown = await insertMessage(t.db, chat, { role: 'assistant', text: 'hello' });
    const forWorker = await received(workerSub, 2);
    expect(forWorker.map((e) => e.chatEvents.message.databaseId)).toEqual([hidden, shown]);
    const forUser = await received(userSub, 1);
    // The user's stream is behind the worker's at most by delivery; both came from one batch.
    expect(forUser.map((e) => e.chatEvents.message.databaseId)).toEqual([shown]);
    expect(JSON.stringify(userSub.results)).not.toContain('secret plan');
    await end(server.app, userSub, workerSub);
  });

  it('costs count model-only assistant turns (they were paid for) and reveal no content', async () => {
    const chat = await insertChat(t.db, alice.user.id, { title: 'cost' });
    await insertMessage(t.db, chat, { role: 'assistant', text: 'a', input: 100, cost: 300, model: MODEL.priced });
    await insertMessage(t.db, chat, { role: 'assistant', text: 'hidden', visibility: 'model', input: 10, cost: 30, model: MODEL.priced });
    const r = await query(CHAT, { id: gid('Chat', chat) });
    expect(r.chat.cost).toEqual({ totalCostMicros: '330', pricedMessageCount: 2, totalInputTokens: '110' });
  });
});
