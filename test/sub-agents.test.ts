import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onQuery } from '../src/db/index.js';
import { MAX_CHAT_DEPTH } from '../src/resolvers/subAgents.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startGateway, type Gateway } from './helpers/gateway.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collect, finished, received, subscribed } from './helpers/subscriptions.js';

const gid = (id: string) => encodeGlobalID('Chat', id);
const rawId = (g: string) => Buffer.from(g, 'base64').toString().split(':')[1]!;

const CREATE_CHILD = `mutation ($input: CreateChildChatInput!) { createChildChat(input: $input) {
  __typename
  ... on CreateChildChatPayload { chat { id title status parent { id } root { id } owner { id } lastModelConfig { id } } parent { id children { id } } message { role parts { ... on ChatTextPart { text } } } }
  ... on Error { error: message } ... on ValidationError { field }
} }`;
const SETTLED = 'subscription ($ids: [ID!]!) { chatsSettled(chatIds: $ids) { remaining chat { id status lastError } } }';
const EVENTS = 'subscription ($chatId: ID!) { chatEvents(chatId: $chatId) { kind chat { id } child { id status title } } }';
const FINISH = 'mutation ($input: FinishChatRunInput!) { finishChatRun(input: $input) { __typename ... on FinishChatRunPayload { finished } } }';

interface Settled { chatsSettled: { remaining: number; chat: { id: string; status: string; lastError: string | null } } }
interface Stream { chatEvents: { kind: string; chat: { id: string }; child: { id: string; status: string; title: string } | null } }

describe('sub-agents', () => {
  let t: TestDatabase;
  let server: TestServer;
  let other: Gateway;
  let alice: TestUser;
  let worker: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 12 });
    await insertModels(t.db);
    alice = await makeUser(t.db);
    worker = await makeUser(t.db, { scopes: ['worker'] });
    [server, other] = await Promise.all([startTestServer(t.db), startGateway(t.url)]);
  });
  afterAll(async () => {
    await other?.stop();
    await server?.stop();
    await t?.close();
  });

  async function run(chatId: string, workerId = 'w1'): Promise<void> {
    await t.db.none("UPDATE chats SET status = 'running', worker_id = $2, started_at = now(), heartbeat_at = now() WHERE id = $1", [chatId, workerId]);
  }
  async function createChild(input: Record<string, unknown>, token = worker.token): Promise<any> {
    const res = await server.gql<{ createChildChat: any }>(CREATE_CHILD, { input: { workerId: 'w1', content: [{ type: 'TEXT', text: 'look into it' }], ...input } }, token);
    expect(res.errors).toBeUndefined();
    return res.data!.createChildChat;
  }
  const snapshot = async () => ({
    chats: await t.db.any('SELECT id, xmin::text FROM chats ORDER BY id'),
    messages: (await t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM chat_messages')).n,
  });

  it("creates a PENDING child under a chat the worker runs: the parent's owner, root = the parent's root, first message, parent's model", async () => {
    const root = await insertChat(t.db, alice.user.id, { model: MODEL.gpt });
    await run(root);
    const child = await createChild({ parentChatId: gid(root), title: 'Investigate' });
    expect(child).toMatchObject({
      __typename: 'CreateChildChatPayload',
      chat: { title: 'Investigate', status: 'PENDING', parent: { id: gid(root) }, root: { id: gid(root) }, owner: { id: encodeGlobalID('User', alice.user.id) }, lastModelConfig: { id: encodeGlobalID('ChatModelConfig', MODEL.gpt) } },
      message: { role: 'USER', parts: [{ text: 'look into it' }] },
    });
    expect(child.parent.children).toEqual([{ id: child.chat.id }]);
    // A grandchild: its root is the family root, not its parent.
    await run(rawId(child.chat.id), 'w1');
    const grandchild = await createChild({ parentChatId: child.chat.id });
    expect(grandchild.chat).toMatchObject({ status: 'PENDING', parent: { id: child.chat.id }, root: { id: gid(root) }, title: 'Sub-agent' });
  });

  it('is refused, with nothing written, to a worker that does not run the parent, to user tokens, past the maximum depth and on a cyclic ancestry', async () => {
    const root = await insertChat(t.db, alice.user.id);
    await run(root, 'w1');
    // A chain root → d1 → … → d{MAX}: the deepest may not have children, the one above may.
    const chain = [root];
    for (let d = 1; d <= MAX_CHAT_DEPTH; d++) {
      const id = (await t.db.one<{ id: string }>(
        `INSERT INTO chats (owner_id, parent_chat_id, root_chat_id, last_model_config_id, status, worker_id) VALUES ($1, $2, $3, $4, 'running', 'w1') RETURNING id`,
        [alice.user.id, chain[d - 1], root, MODEL.priced],
      )).id;
      chain.push(id);
    }
    // Two chats that name each other as parent (corrupt data must not hang the walk).
    const a = await insertChat(t.db, alice.user.id);
    const b = await insertChat(t.db, alice.user.id, { parent: a });
    await t.db.none('UPDATE chats SET parent_chat_id = $2, root_chat_id = $2 WHERE id = $1', [a, b]);
    await run(a, 'w1');
    const idle = await insertChat(t.db, alice.user.id, { status: 'waiting' });
    const before = await snapshot();
    const cases: Array<[Record<string, unknown>, string, string | null, string?]> = [
      [{ parentChatId: gid(root), workerId: 'w2' }, 'ForbiddenError', null],
      [{ parentChatId: gid(idle) }, 'ForbiddenError', null],
      [{ parentChatId: gid(chain[MAX_CHAT_DEPTH]!) }, 'ValidationError', 'parentChatId', `at most ${MAX_CHAT_DEPTH} levels`],
      [{ parentChatId: gid(a) }, 'ValidationError', 'parentChatId', 'cycle'],
      [{ parentChatId: gid(root), content: [] }, 'ValidationError', 'content'],
      [{ parentChatId: gid(root), modelConfigId: encodeGlobalID('ChatModelConfig', '30000000-0000-4000-8000-000000000001') }, 'InvalidModelConfigError', null],
    ];
    for (const [input, typename, field, text] of cases) {
      const r = await createChild(input);
      expect(r.__typename, JSON.stringify(input)).toBe(typename);
      if (field) expect(r.field).toBe(field);
      if (text) expect(r.error).toContain(text);
    }
    expect((await createChild({ parentChatId: gid(root) }, alice.token)).__typename).toBe('ForbiddenError');
    expect(await snapshot()).toEqual(before);
    // One level less is still allowed.
    expect((await createChild({ parentChatId: gid(chain[MAX_CHAT_DEPTH - 1]!) })).__typename).toBe('CreateChildChatPayload');
  });

  it("children appear live on the parent's chatEvents for its owner (CHILD_UPDATE), roll up into its cost and archive with the family", async () => {
    const root = await insertChat(t.db, alice.user.id);
    await run(root);
    const sub = await subscribed<Stream>(server.app, server.ws({ authToken: alice.token }), EVENTS, { chatId: gid(root) });
    const child = await createChild({ parentChatId: gid(root), title: 'helper' });
    // (The parent's own STATUS from run() may still arrive first: only child updates are checked.)
    const childUpdates = () => sub.data.map((d) => d.chatEvents).filter((e) => e.kind === 'CHILD_UPDATE');
    await expect.poll(childUpdates, { timeout: 10_000 }).toHaveLength(1);
    expect(childUpdates()[0]).toEqual({ kind: 'CHILD_UPDATE', chat: { id: gid(root) }, child: { id: child.chat.id, status: 'PENDING', title: 'helper' } });
    await run(rawId(child.chat.id), 'w2');
    await expect.poll(childUpdates, { timeout: 10_000 }).toHaveLength(2);
    expect(childUpdates()[1]).toMatchObject({ kind: 'CHILD_UPDATE', child: { id: child.chat.id, status: 'RUNNING' } });
    sub.unsubscribe();

    await insertMessage(t.db, rawId(child.chat.id), { role: 'assistant', text: 'found it', cost: 1234 });
    const cost = await server.gql<{ chat: { cost: { totalCostMicros: string } } }>('query ($id: ID!) { chat(id: $id) { cost { totalCostMicros } } }', { id: gid(root) }, alice.token);
    expect(cost.data!.chat.cost.totalCostMicros).toBe('1234');

    const archived = await server.gql('mutation ($input: ArchiveChatInput!) { archiveChat(input: $input) { __typename } }', { input: { chatId: gid(root) } }, alice.token);
    expect(archived.errors).toBeUndefined();
    const rows = await t.db.any('SELECT archived FROM chats WHERE id = $1 OR root_chat_id = $1', [root]);
    expect(rows.map((r) => r.archived)).toEqual([true, true]);
  });

  it('chatsSettled: a worker here is woken by children finishing through the other process, with no statement while it waits', async () => {
    const parent = await insertChat(t.db, alice.user.id);
    await run(parent, 'pw');
    const kids: string[] = [];
    for (let i = 0; i < 2; i++) kids.push(rawId((await createChild({ parentChatId: gid(parent), workerId: 'pw' })).chat.id));
    await t.db.none("UPDATE chats SET status = 'running', worker_id = 'cw', started_at = now(), heartbeat_at = now() WHERE id = ANY($1::uuid[])", [kids]);
    const done = await insertChat(t.db, alice.user.id, { parent, status: 'waiting' });

    const statements: string[] = [];
    const sub = await subscribed<Settled>(server.app, server.ws({ authToken: worker.token }), SETTLED, { ids: [gid(kids[0]!), gid(done), gid(kids[1]!)] });
    const [first] = await received(sub, 1);
    expect(first!.chatsSettled).toEqual({ remaining: 2, chat: { id: gid(done), status: 'WAITING', lastError: null } });

    const stop = onQuery((q) => statements.push(q));
    await new Promise((r) => setTimeout(r, 1500));
    expect(statements).toEqual([]); // waiting costs nothing: no polling
    stop();

    const finishOn = async (chatId: string, status: string, lastError?: string) => {
      const res = await fetch(other.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${worker.token}` },
        body: JSON.stringify({ query: FINISH, variables: { input: { chatId: gid(chatId), workerId: 'cw', status, lastError } } }),
      });
      expect(((await res.json()) as any).data.finishChatRun).toEqual({ __typename: 'FinishChatRunPayload', finished: true });
      return Date.now();
    };
    const t1 = await finishOn(kids[1]!, 'ERROR', 'tool broke');
    const [, second] = await received(sub, 2);
    const latency = Date.now() - t1;
    expect(second!.chatsSettled).toEqual({ remaining: 1, chat: { id: gid(kids[1]!), status: 'ERROR', lastError: 'tool broke' } });
    expect(latency).toBeLessThan(2000);
    await finishOn(kids[0]!, 'WAITING');
    const results = await finished(sub);
    expect(results.map((r) => r.data!.chatsSettled.chat.id)).toEqual([gid(done), gid(kids[1]!), gid(kids[0]!)]);
    expect(results.at(-1)!.data!.chatsSettled.remaining).toBe(0);
    expect(sub.completed).toBe(true);
  });

  it('chatsSettled needs a worker token and known chats', async () => {
    const mine = await insertChat(t.db, alice.user.id, { status: 'waiting' });
    const asUser = collect<Settled>(server.ws({ authToken: alice.token }), SETTLED, { ids: [gid(mine)] });
    const unknown = collect<Settled>(server.ws({ authToken: worker.token }), SETTLED, { ids: [gid('30000000-0000-4000-8000-000000000009')] });
    const empty = collect<Settled>(server.ws({ authToken: worker.token }), SETTLED, { ids: [] });
    for (const [sub, code] of [[asUser, 'FORBIDDEN'], [unknown, 'NOT_FOUND'], [empty, 'BAD_USER_INPUT']] as const) {
      await finished(sub);
      const errors = (sub.error ?? sub.results[0]?.errors) as Array<{ extensions?: { code?: string } }>;
      expect(errors?.[0]?.extensions?.code).toBe(code);
    }
  });
});
