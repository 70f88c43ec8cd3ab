import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const gid = (id: string) => encodeGlobalID('Chat', id);
const TREE = `query ($id: ID!) { chat(id: $id) {
  id cost { totalCostMicros pricedMessageCount }
  children { id parent { id } root { id } cost { totalCostMicros }
    children { id parent { id } root { id } cost { totalCostMicros } children { id } } }
} }`;
const SUMMARY = `{ costSummary { totalCostMicros byChat { rootChat { id } chatTitle messageCount totals { totalCostMicros } } } }`;
const USERS = `query ($u: String) { costUsers(username: $u) { nodes { chatCount messageCount totals { totalCostMicros } } } }`;
const ARCHIVE = `mutation ($input: ArchiveChatInput!) { archiveChat(input: $input) { __typename ... on ChatFamilyPayload { changedChats { id archived } } ... on Error { message } } }`;
const UNARCHIVE = `mutation ($input: UnarchiveChatInput!) { unarchiveChat(input: $input) { __typename ... on ChatFamilyPayload { changedChats { id archived } } ... on Error { message } } }`;

/** A family three levels deep, the grandchild written directly (as any writer could). */
describe('sub-agent rollups agree at any depth', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let admin: TestUser;
  let root: string;
  let child: string;
  let grandchild: string;

  async function gql(doc: string, variables: Record<string, unknown> = {}, token = alice.token): Promise<any> {
    const res = await server.gql<any>(doc, variables, token);
    expect(res.errors).toBeUndefined();
    return res.data;
  }
  const archivedIds = async () => t.db.map('SELECT id FROM chats WHERE archived AND id = ANY($1::uuid[]) ORDER BY created_at', [[root, child, grandchild]], (r) => r.id as string);

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db, { username: 'deep' });
    admin = await makeUser(t.db, { admin: true });
    root = await insertChat(t.db, alice.user.id, { title: 'root' });
    child = await insertChat(t.db, alice.user.id, { title: 'child', parent: root });
    grandchild = (await t.db.one(
      'INSERT INTO chats (owner_id, title, parent_chat_id, root_chat_id, last_model_config_id) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [alice.user.id, 'grandchild', child, root, MODEL.priced],
    )).id;
    await insertMessage(t.db, root, { role: 'assistant', input: 1, cost: 100, model: MODEL.priced });
    await insertMessage(t.db, child, { role: 'assistant', input: 1, cost: 20, model: MODEL.priced });
    await insertMessage(t.db, grandchild, { role: 'assistant', input: 1, cost: 777, model: MODEL.priced });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('Chat.cost of each node covers its whole subtree, and the root agrees with costSummary.byChat and costUsers', async () => {
    const tree = (await gql(TREE, { id: gid(root) })).chat;
    expect(tree.cost).toEqual({ totalCostMicros: '897', pricedMessageCount: 3 });
    const [c] = tree.children;
    expect(c).toMatchObject({ id: gid(child), parent: { id: gid(root) }, root: { id: gid(root) }, cost: { totalCostMicros: '797' } });
    expect(c.children).toEqual([{ id: gid(grandchild), parent: { id: gid(child) }, root: { id: gid(root) }, cost: { totalCostMicros: '777' }, children: [] }]);

    const summary = (await gql(SUMMARY)).costSummary;
    expect(summary.totalCostMicros).toBe('897');
    expect(summary.byChat).toEqual([{ rootChat: { id: gid(root) }, chatTitle: 'root', messageCount: 3, totals: { totalCostMicros: '897' } }]);
    expect(summary.byChat[0].totals.totalCostMicros).toBe(tree.cost.totalCostMicros);

    const users = (await gql(USERS, { u: 'deep' }, admin.token)).costUsers;
    expect(users.nodes).toEqual([{ chatCount: 1, messageCount: 3, totals: { totalCostMicros: '897' } }]);
  });

  it('archiving a middle chat archives its subtree; unarchiving below an archived ancestor is refused at any depth', async () => {
    const a = await gql(ARCHIVE, { input: { chatId: gid(child) } });
    expect(a.archiveChat.changedChats.map((x: any) => x.id).sort()).toEqual([gid(child), gid(grandchild)].sort());
    expect(await archivedIds()).toEqual([child, grandchild]);
    const refused = await gql(UNARCHIVE, { input: { chatId: gid(grandchild) } });
    expect(refused.unarchiveChat.__typename).toBe('ChatArchivedError');
    await gql(UNARCHIVE, { input: { chatId: gid(child) } });
    expect(await archivedIds()).toEqual([]);

    // The root covers every depth; with only the grandparent still archived, the grandchild stays refused.
    await gql(ARCHIVE, { input: { chatId: gid(root) } });
    expect(await archivedIds()).toEqual([root, child, grandchild]);
    await t.db.none('UPDATE chats SET archived = false WHERE id = $1', [child]);
    const before = await archivedIds();
    expect((await gql(UNARCHIVE, { input: { chatId: gid(grandchild) } })).unarchiveChat.__typename).toBe('ChatArchivedError');
    expect(await archivedIds()).toEqual(before);
    await gql(UNARCHIVE, { input: { chatId: gid(root) } });
    expect(await archivedIds()).toEqual([]);
  });

  it('a corrupt parent cycle neither hangs nor double-counts a rollup', async () => {
    const a = await insertChat(t.db, alice.user.id, { title: 'cycle a' });
    const b = await insertChat(t.db, alice.user.id, { title: 'cycle b', parent: a });
    await insertMessage(t.db, b, { role: 'assistant', input: 1, cost: 5, model: MODEL.priced });
    // a's parent becomes its own child: a → b → a.
    await t.db.none('UPDATE chats SET parent_chat_id = $2, root_chat_id = $2 WHERE id = $1', [a, b]);
    const r = await gql(`query ($id: ID!) { chat(id: $id) { cost { totalCostMicros } } }`, { id: gid(a) });
    expect(r.chat.cost.totalCostMicros).toBe('5');
    const archived = await gql(ARCHIVE, { input: { chatId: gid(a) } });
    expect(archived.archiveChat.changedChats).toHaveLength(2);
    expect((await gql(UNARCHIVE, { input: { chatId: gid(b) } })).unarchiveChat.__typename).toBe('ChatArchivedError');
  });
});
