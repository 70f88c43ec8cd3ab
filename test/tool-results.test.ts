import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireUnansweredToolCalls, toolResultTimeoutMessage } from '../src/db/actionDeadline.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { insertChat, insertMessage, insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const chatGid = (id: string) => encodeGlobalID('Chat', id);

const SUBMIT = `mutation ($input: SubmitToolResultsInput!) {
  submitToolResults(input: $input) {
    __typename
    ... on SubmitToolResultsPayload {
      chat { status pendingToolCalls { toolCallId } }
      messages { role visibility createdBy { id } parts { __typename ... on ChatToolResultPart { toolCallId toolName result isError } } }
      pendingToolCalls { toolCallId toolName }
    }
    ... on Error { message }
    ... on ValidationError { field }
  }
}`;
const PENDING = 'query ($id: ID!) { chat(id: $id) { status lastError pendingToolCalls { toolCallId toolName args } } }';

const call = (id: string, name = 'confirm', args: unknown = { q: id }) => ({ type: 'tool-call', toolCallId: id, toolName: name, args });

describe('tool results for REQUIRES_ACTION', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db);
    bob = await makeUser(t.db);
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  /** A chat whose last run finished as REQUIRES_ACTION with the given tool calls (c1 answered already when `answered`). */
  async function awaitingChat(calls: object[], answered: string[] = []): Promise<string> {
    const id = await insertChat(t.db, alice.user.id, { status: 'requires_action' });
    await insertMessage(t.db, id, { role: 'user', text: 'do it' });
    await insertMessage(t.db, id, { role: 'assistant', content: [{ type: 'text', text: 'I need you to confirm.' }, ...calls] });
    for (const a of answered) {
      await insertMessage(t.db, id, { role: 'tool', content: [{ type: 'tool-result', toolCallId: a, toolName: 'confirm', result: 'earlier' }] });
    }
    return id;
  }
  const snapshot = async (chatId: string) => ({
    chat: await t.db.one('SELECT *, xmin::text AS x FROM chats WHERE id = $1', [chatId]),
    messages: await t.db.any('SELECT id FROM chat_messages WHERE chat_id = $1 ORDER BY id', [chatId]),
  });
  const submit = async (token: string, input: object) => {
    const res = await server.gql<{ submitToolResults: any }>(SUBMIT, { input }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.submitToolResults;
  };

  it('pendingToolCalls lists the unanswered calls of the last assistant message, only in REQUIRES_ACTION', async () => {
    const id = await awaitingChat([call('c1'), call('c2', 'pick', { options: [1, 2] }), call('c3')], ['c1']);
    const res = await server.gql<{ chat: any }>(PENDING, { id: chatGid(id) }, alice.token);
    expect(res.data!.chat.pendingToolCalls).toEqual([
      { toolCallId: 'c2', toolName: 'pick', args: { options: [1, 2] } },
      { toolCallId: 'c3', toolName: 'confirm', args: { q: 'c3' } },
    ]);
    await t.db.none("UPDATE chats SET status = 'waiting' WHERE id = $1", [id]);
    expect((await server.gql<{ chat: any }>(PENDING, { id: chatGid(id) }, alice.token)).data!.chat.pendingToolCalls).toEqual([]);
  });

  it('answering every pending call appends one tool message per result and makes the chat PENDING', async () => {
    const id = await awaitingChat([call('a'), call('b', 'pick')]);
    const r = await submit(alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'b', output: { choice: 2 } }, { toolCallId: 'a', output: 'no', isError: true }] });
    expect(r.__typename).toBe('SubmitToolResultsPayload');
    expect(r.chat).toEqual({ status: 'PENDING', pendingToolCalls: [] });
    expect(r.pendingToolCalls).toEqual([]);
    expect(r.messages).toEqual([
      { role: 'TOOL', visibility: 'BOTH', createdBy: { id: encodeGlobalID('User', alice.user.id) }, parts: [{ __typename: 'ChatToolResultPart', toolCallId: 'b', toolName: 'pick', result: { choice: 2 }, isError: false }] },
      { role: 'TOOL', visibility: 'BOTH', createdBy: { id: encodeGlobalID('User', alice.user.id) }, parts: [{ __typename: 'ChatToolResultPart', toolCallId: 'a', toolName: 'confirm', result: 'no', isError: true }] },
    ]);
    const rows = await t.db.any("SELECT role, content FROM chat_messages WHERE chat_id = $1 AND role = 'tool' ORDER BY id", [id]);
    expect(rows.map((m) => m.content[0].toolCallId)).toEqual(['b', 'a']);
  });

  it('a partial answer keeps the chat REQUIRES_ACTION and reports what is left', async () => {
    const id = await awaitingChat([call('x'), call('y')]);
    const r = await submit(alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'x', output: true }] });
    expect(r.chat).toEqual({ status: 'REQUIRES_ACTION', pendingToolCalls: [{ toolCallId: 'y' }] });
    expect(r.pendingToolCalls).toEqual([{ toolCallId: 'y', toolName: 'confirm' }]);
    const again = await submit(alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'y', output: false }] });
    expect(again.chat.status).toBe('PENDING');
  });

  it('unknown, already-answered or duplicated ids, a chat not in REQUIRES_ACTION, an archived or foreign chat: typed errors, nothing written', async () => {
    const id = await awaitingChat([call('p1'), call('p2')], ['p1']);
    const idle = await insertChat(t.db, alice.user.id, { status: 'waiting' });
    const archived = await awaitingChat([call('z')]);
    await t.db.none('UPDATE chats SET archived = true WHERE id = $1', [archived]);
    const before = [await snapshot(id), await snapshot(idle), await snapshot(archived)];
    const cases: Array<[string, object, string, string | null]> = [
      [alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'nope', output: 1 }] }, 'ValidationError', 'results[0].toolCallId'],
      [alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'p2', output: 1 }, { toolCallId: 'p1', output: 1 }] }, 'ValidationError', 'results[1].toolCallId'],
      [alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'p2', output: 1 }, { toolCallId: 'p2', output: 2 }] }, 'ValidationError', 'results[1].toolCallId'],
      [alice.token, { chatId: chatGid(id), results: [] }, 'ValidationError', 'results'],
      [alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'p2', output: 'x'.repeat(600 * 1024) }] }, 'ValidationError', 'results[0].output'],
      [alice.token, { chatId: chatGid(idle), results: [{ toolCallId: 'p2', output: 1 }] }, 'ValidationError', 'chatId'],
      [alice.token, { chatId: chatGid(archived), results: [{ toolCallId: 'z', output: 1 }] }, 'ChatArchivedError', null],
      [bob.token, { chatId: chatGid(id), results: [{ toolCallId: 'p2', output: 1 }] }, 'NotFoundError', null],
    ];
    for (const [token, input, typename, field] of cases) {
      const r = await submit(token, input);
      expect(r.__typename, JSON.stringify(input).slice(0, 120)).toBe(typename);
      if (field) expect(r.field).toBe(field);
    }
    expect(await submit(alice.token, { chatId: chatGid(id), results: [{ toolCallId: 'p1', output: 1 }] })).toMatchObject({ message: expect.stringContaining('already answered') });
    expect([await snapshot(id), await snapshot(idle), await snapshot(archived)]).toEqual(before);
  });

  it('the deadline moves a chat left in REQUIRES_ACTION past the limit to ERROR with a clear lastError, and leaves fresher ones alone', async () => {
    const old = await awaitingChat([call('d1')]);
    const fresh = await awaitingChat([call('d2')]);
    await t.db.none("UPDATE chats SET updated_at = now() - interval '2 hours' WHERE id = $1", [old]);
    const expired = await expireUnansweredToolCalls(t.db, 3600);
    expect(expired).toEqual([old]);
    const oldChat = (await server.gql<{ chat: any }>(PENDING, { id: chatGid(old) }, alice.token)).data!.chat;
    expect(oldChat).toEqual({ status: 'ERROR', lastError: toolResultTimeoutMessage(3600), pendingToolCalls: [] });
    expect(oldChat.lastError).toMatch(/No tool result was submitted within 3600 s/);
    expect((await t.db.one('SELECT status FROM chats WHERE id = $1', [fresh])).status).toBe('requires_action');
    // Too late now: the chat is no longer awaiting results.
    const late = await submit(alice.token, { chatId: chatGid(old), results: [{ toolCallId: 'd1', output: 1 }] });
    expect(late).toMatchObject({ __typename: 'ValidationError', field: 'chatId' });
  });
});
