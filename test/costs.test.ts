import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onQuery } from '../src/db/index.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// Prices of the fixture models (USD per 1M tokens, so tokens × price = micro-USD):
// Claude 3 / 15 / cache read 0.3 / cache write 3.75; GPT 2 / 8 / 0.5 / NULL; Llama all 0 (free);
// Experimental all NULL (unpriced). Costs below are written out by hand from those prices.
const START = new Date('2025-03-01T00:00:00.000Z');
const END = new Date('2025-03-08T00:00:00.000Z');
const at = (iso: string) => new Date(iso);

const TOTALS = 'totalCostMicros pricedMessageCount unpricedMessageCount totalInputTokens totalOutputTokens totalCacheReadTokens totalCacheCreationTokens totalRuntimeMs';

const SUMMARY = /* GraphQL */ `
  query Summary($start: DateTime, $end: DateTime, $userId: ID) {
    costSummary(startDate: $start, endDate: $end, userId: $userId) {
      startDate endDate user { username }
      ${TOTALS} messageCount
      totals { ${TOTALS} }
      byModel { modelConfigId displayName provider model messageCount totals { ${TOTALS} } }
      byChat { rootChatId chatTitle messageCount totals { ${TOTALS} } }
    }
  }
`;

const USERS = /* GraphQL */ `
  query Users($start: DateTime, $end: DateTime, $username: String, $first: Int, $after: String) {
    costUsers(startDate: $start, endDate: $end, username: $username, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { user { username } messageCount chatCount totals { ${TOTALS} } } }
    }
  }
`;

const totals = (t: Partial<Record<string, string | number>>) => ({
  totalCostMicros: '0',
  pricedMessageCount: 0,
  unpricedMessageCount: 0,
  totalInputTokens: '0',
  totalOutputTokens: '0',
  totalCacheReadTokens: '0',
  totalCacheCreationTokens: '0',
  totalRuntimeMs: '0',
  ...t,
});

describe('cost analytics', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;
  let frank: TestUser;
  const chats = { r1: '', c1: '', r2: '', b1: '' }; // filled in beforeAll
  const range = { start: START.toISOString(), end: END.toISOString() };

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db, { username: 'alice' });
    bob = await makeUser(t.db, { username: 'bob' });
    admin = await makeUser(t.db, { username: 'root', admin: true });
    frank = await makeUser(t.db, { username: 'frank' });
    const db = t.db;

    // alice: "Root one" with a sub-agent child, and "Root two".
    chats.r1 = await insertChat(db, alice.user.id, { title: 'Root one' });
    chats.c1 = await insertChat(db, alice.user.id, { title: 'Child', parent: chats.r1 });
    chats.r2 = await insertChat(db, alice.user.id, { title: 'Root two' });
    const a = (chat: string, fields: Parameters<typeof insertMessage>[2]) => insertMessage(db, chat, { role: 'assistant', ...fields });
    // 1. exactly at start (counts): 1000×3 + 200×15 + 500×0.3 + 100×3.75 = 6525
    await a(chats.r1, { model: MODEL.priced, input: 1000, output: 200, cacheRead: 500, cacheCreation: 100, cost: 6525, runtimeMs: 1200, createdAt: START });
    // 2. edited away (deleted) but paid for: 2000×2 + 100×8 + 1000×0.5 = 5300
    await a(chats.r1, { model: MODEL.gpt, input: 2000, output: 100, cacheRead: 1000, cost: 5300, runtimeMs: 800, deleted: true, createdAt: at('2025-03-02T12:00:00Z') });
    // 3. in the child chat, rolled into "Root one": 400×3 + 40×15 = 1800
    await a(chats.c1, { model: MODEL.priced, input: 400, output: 40, cost: 1800, runtimeMs: 300, createdAt: at('2025-03-03T00:00:00Z') });
    // 4. free model: priced at 0
    await a(chats.r2, { model: MODEL.free, input: 5000, output: 1000, cost: 0, runtimeMs: 2000, createdAt: at('2025-03-04T00:00:00Z') });
    // 5. unpriced model: cost NULL with usage
    await a(chats.r2, { model: MODEL.unpriced, input: 300, output: 30, cost: null, runtimeMs: 100, createdAt: at('2025-03-05T00:00:00Z') });
    // 6. no model, no usage, no cost: counted, neither priced nor unpriced
    await a(chats.r2, { runtimeMs: 50, createdAt: at('2025-03-06T00:00:00Z') });
    // 7. the last millisecond of the range: 100×3 + 10×15 = 450
    await a(chats.r2, { model: MODEL.priced, input: 100, output: 10, cost: 450, runtimeMs: 10, createdAt: at('2025-03-07T23:59:59.999Z') });
    // Outside the range: exactly at end, and a millisecond before start.
    await a(chats.r1, { model: MODEL.priced, input: 1, cost: 99999, createdAt: END });
    await a(chats.r1, { model: MODEL.priced, input: 1, cost: 77777, createdAt: at('2025-02-28T23:59:59.999Z') });
    // A user message never counts, whatever it carries.
    await insertMessage(db, chats.r1, { role: 'user', model: MODEL.priced, input: 999, cost: 11111, createdAt: at('2025-03-02T00:00:00Z') });

    // Other users for the rollup (bob 50000 > alice 14075 > dave = erin 1000 > a_b 700 > axb 600 > percent 500 > plain 400).
    const spend = async (owner: string, cost: number, when = at('2025-03-03T00:00:00Z')) => {
      const chat = await insertChat(db, owner, { title: 'spend' });
      await a(chat, { model: MODEL.priced, input: cost, cost, createdAt: when });
      return chat;
    };
    chats.b1 = await spend(bob.user.id, 50000);
    for (const [username, cost, name] of [['dave', 1000, null], ['erin', 1000, null], ['a_b', 700, null], ['axb', 600, null], ['percent', 500, '100% sure'], ['plain', 400, '100 sure']] as const) {
      const user = await makeUser(db, { username });
      if (name) await db.none('UPDATE users SET name = $1 WHERE id = $2', [name, user.user.id]);
      await spend(user.user.id, cost);
    }
    // frank: one message a day ago, one 31 days ago (the default range is the last 30 days).
    await spend(frank.user.id, 10, new Date(Date.now() - 86_400_000));
    await spend(frank.user.id, 20, new Date(Date.now() - 31 * 86_400_000));

    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server?.stop();
    await t?.close();
  });

  it('sums a user\'s assistant messages in [start, end), deleted ones included, with exact totals', async () => {
    const res = await server.gql<{ costSummary: any }>(SUMMARY, range, alice.token);
    expect(res.errors).toBeUndefined();
    const s = res.data!.costSummary;
    const expected = totals({
      totalCostMicros: '14075', // 6525 + 5300 + 1800 + 0 + 450
      pricedMessageCount: 5, // 1, 2, 3, 4 (free), 7
      unpricedMessageCount: 1, // 5
      totalInputTokens: '8800', // 1000 + 2000 + 400 + 5000 + 300 + 100
      totalOutputTokens: '1380', // 200 + 100 + 40 + 1000 + 30 + 10
      totalCacheReadTokens: '1500',
      totalCacheCreationTokens: '100',
      totalRuntimeMs: '4460', // 1200 + 800 + 300 + 2000 + 100 + 50 + 10
    });
    expect(s).toMatchObject({ startDate: range.start, endDate: range.end, user: { username: 'alice' }, messageCount: 7, ...expected });
    expect(s.totals).toEqual(expected);
  });

  it('breaks down by model, cost descending, the free, unpriced and no-model lines included', async () => {
    const res = await server.gql<{ costSummary: any }>(SUMMARY, range, alice.token);
    const byModel = res.data!.costSummary.byModel;
    expect(byModel).toEqual([
      {
        modelConfigId: encodeGlobalID('ChatModelConfig', MODEL.priced), displayName: 'Claude', provider: 'anthropic', model: 'claude', messageCount: 3,
        totals: totals({ totalCostMicros: '8775', pricedMessageCount: 3, totalInputTokens: '1500', totalOutputTokens: '250', totalCacheReadTokens: '500', totalCacheCreationTokens: '100', totalRuntimeMs: '1510' }),
      },
      {
        modelConfigId: encodeGlobalID('ChatModelConfig', MODEL.gpt), displayName: 'GPT', provider: 'openai', model: 'gpt', messageCount: 1,
        totals: totals({ totalCostMicros: '5300', pricedMessageCount: 1, totalInputTokens: '2000', totalOutputTokens: '100', totalCacheReadTokens: '1000', totalRuntimeMs: '800' }),
      },
      // Three lines at cost 0: by display name, the line without a model config last.
      {
        modelConfigId: encodeGlobalID('ChatModelConfig', MODEL.unpriced), displayName: 'Experimental', provider: 'x', model: 'exp', messageCount: 1,
        totals: totals({ unpricedMessageCount: 1, totalInputTokens: '300', totalOutputTokens: '30', totalRuntimeMs: '100' }),
      },
      {
        modelConfigId: encodeGlobalID('ChatModelConfig', MODEL.free), displayName: 'Llama', provider: 'local', model: 'llama', messageCount: 1,
        totals: totals({ pricedMessageCount: 1, totalInputTokens: '5000', totalOutputTokens: '1000', totalRuntimeMs: '2000' }),
      },
      { modelConfigId: null, displayName: null, provider: null, model: null, messageCount: 1, totals: totals({ totalRuntimeMs: '50' }) },
    ]);
  });

  it('breaks down by root chat with children rolled in, cost descending', async () => {
    const res = await server.gql<{ costSummary: any }>(SUMMARY, range, alice.token);
    expect(res.data!.costSummary.byChat).toEqual([
      {
        rootChatId: encodeGlobalID('Chat', chats.r1), chatTitle: 'Root one', messageCount: 3,
        totals: totals({ totalCostMicros: '13625', pricedMessageCount: 3, totalInputTokens: '3400', totalOutputTokens: '340', totalCacheReadTokens: '1500', totalCacheCreationTokens: '100', totalRuntimeMs: '2300' }),
      },
      {
        rootChatId: encodeGlobalID('Chat', chats.r2), chatTitle: 'Root two', messageCount: 4,
        totals: totals({ totalCostMicros: '450', pricedMessageCount: 2, unpricedMessageCount: 1, totalInputTokens: '5400', totalOutputTokens: '1040', totalRuntimeMs: '2160' }),
      },
    ]);
  });

  it('answers the whole summary in one statement; relations batch into one more each', async () => {
    const statements: string[] = [];
    const stop = onQuery((q) => {
      if (!q.includes('api_tokens')) statements.push(q); // auth lookups are the same for every request
    });
    try {
      const res = await server.gql<{ costSummary: any }>(SUMMARY, range, alice.token);
      expect(res.errors).toBeUndefined();
      expect(statements).toHaveLength(1);
      statements.length = 0;
      const rel = await server.gql<{ costSummary: any }>(
        `query($start: DateTime, $end: DateTime) { costSummary(startDate: $start, endDate: $end) {
           byModel { modelConfig { id displayName } } byChat { rootChat { id title children { id } } } } }`,
        range,
        alice.token,
      );
      expect(rel.errors).toBeUndefined();
      expect(rel.data!.costSummary.byModel.map((m: any) => m.modelConfig?.displayName ?? null)).toEqual(['Claude', 'GPT', 'Experimental', 'Llama', null]);
      expect(rel.data!.costSummary.byChat[0].rootChat).toEqual({ id: encodeGlobalID('Chat', chats.r1), title: 'Root one', children: [{ id: encodeGlobalID('Chat', chats.c1) }] });
      // summary + model configs + root chats + their children (extras)
      expect(statements).toHaveLength(4);
    } finally {
      stop();
    }
  });

  it('an empty range is zero everywhere, with empty breakdowns', async () => {
    const res = await server.gql<{ costSummary: any }>(SUMMARY, { start: range.start, end: range.start }, alice.token);
    expect(res.errors).toBeUndefined();
    expect(res.data!.costSummary).toMatchObject({ messageCount: 0, ...totals({}), byModel: [], byChat: [] });
  });

  it('defaults to the last 30 days ending now, and fills a missing end or start', async () => {
    const before = Date.now();
    const res = await server.gql<{ costSummary: any }>(SUMMARY, {}, frank.token);
    expect(res.errors).toBeUndefined();
    const s = res.data!.costSummary;
    expect(s.totalCostMicros).toBe('10'); // the message of 31 days ago is outside
    const end = Date.parse(s.endDate);
    expect(end).toBeGreaterThanOrEqual(before - 1000);
    expect(end - Date.parse(s.startDate)).toBe(30 * 86_400_000);
    const onlyStart = await server.gql<{ costSummary: any }>(SUMMARY, { start: new Date(Date.now() - 40 * 86_400_000).toISOString() }, frank.token);
    expect(onlyStart.data!.costSummary.totalCostMicros).toBe('30');
    const onlyEnd = await server.gql<{ costSummary: any }>(SUMMARY, { end: new Date(Date.now() - 2 * 86_400_000).toISOString() }, frank.token);
    expect(onlyEnd.data!.costSummary.totalCostMicros).toBe('20'); // [now - 32d, now - 2d): only the older message
  });

  it('shows another user\'s summary to admins only', async () => {
    const bobId = encodeGlobalID('User', bob.user.id);
    const denied = await server.gql(SUMMARY, { ...range, userId: bobId }, alice.token);
    expect(denied.data).toBeNull();
    expect(denied.errors).toEqual([expect.objectContaining({ path: ['costSummary'], extensions: { code: 'FORBIDDEN' } })]);
    const own = await server.gql<{ costSummary: any }>(SUMMARY, { ...range, userId: encodeGlobalID('User', alice.user.id) }, alice.token);
    expect(own.data!.costSummary.totalCostMicros).toBe('14075');
    const asAdmin = await server.gql<{ costSummary: any }>(SUMMARY, { ...range, userId: bobId }, admin.token);
    expect(asAdmin.errors).toBeUndefined();
    expect(asAdmin.data!.costSummary).toMatchObject({ user: { username: 'bob' }, totalCostMicros: '50000', messageCount: 1, byChat: [{ rootChatId: encodeGlobalID('Chat', chats.b1) }] });
    const adminOwn = await server.gql<{ costSummary: any }>(SUMMARY, range, admin.token);
    expect(adminOwn.data!.costSummary).toMatchObject({ user: { username: 'root' }, totalCostMicros: '0' });
    const unknown = await server.gql(SUMMARY, { ...range, userId: encodeGlobalID('User', '00000000-0000-4000-8000-00000000dead') }, admin.token);
    expect(unknown.errors?.[0]?.extensions).toEqual({ code: 'NOT_FOUND' });
  });

  it('rejects an end before the start, an over-long range and malformed ids', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ start: range.end, end: range.start }, /endDate/],
      [{ start: '2024-01-01T00:00:00Z', end: '2025-02-04T00:00:00Z' }, /at most 366 days/], // 400 days
      [{ ...range, userId: 'not-an-id' }, /userId/],
      [{ ...range, userId: encodeGlobalID('Chat', chats.r1) }, /userId/],
      [{ ...range, userId: encodeGlobalID('User', 'nope') }, /userId/],
    ];
    for (const [variables, message] of cases) {
      const res = await server.gql(SUMMARY, variables, alice.token);
      expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
      expect(res.errors![0]!.message).toMatch(message);
    }
    const exactlyCap = await server.gql(SUMMARY, { start: '2024-01-01T00:00:00Z', end: '2025-01-01T00:00:00Z' }, alice.token);
    expect(exactlyCap.errors).toBeUndefined(); // 366 days (2024 is a leap year)
  });

  it('costUsers is admin-only', async () => {
    const res = await server.gql(USERS, range, alice.token);
    expect(res.data).toBeNull();
    expect(res.errors).toEqual([expect.objectContaining({ path: ['costUsers'], extensions: { code: 'FORBIDDEN' } })]);
  });

  it('costUsers ranks users by cost then username across pages, with totalCount', async () => {
    const names: string[] = [];
    const pages: any[] = [];
    let after: string | null = null;
    do {
      const res: any = await server.gql(USERS, { ...range, first: 3, after }, admin.token);
      expect(res.errors).toBeUndefined();
      pages.push(res.data.costUsers);
      names.push(...res.data.costUsers.edges.map((e: any) => e.node.user.username));
      after = res.data.costUsers.pageInfo.hasNextPage ? res.data.costUsers.pageInfo.endCursor : null;
    } while (after);
    expect(names).toEqual(['bob', 'alice', 'dave', 'erin', 'a_b', 'axb', 'percent', 'plain']);
    expect(pages.map((p) => p.edges.length)).toEqual([3, 3, 2]);
    expect(pages.map((p) => p.totalCount)).toEqual([8, 8, 8]);
    const aliceLine = pages[0].edges[1].node;
    expect(aliceLine).toEqual({
      user: { username: 'alice' },
      messageCount: 7,
      chatCount: 2, // Root one (with its child) and Root two
      totals: totals({ totalCostMicros: '14075', pricedMessageCount: 5, unpricedMessageCount: 1, totalInputTokens: '8800', totalOutputTokens: '1380', totalCacheReadTokens: '1500', totalCacheCreationTokens: '100', totalRuntimeMs: '4460' }),
    });
    // A cursor past the last line: an empty page that still knows the total.
    const last = pages[2].edges[1].cursor;
    const empty: any = await server.gql(USERS, { ...range, first: 3, after: last }, admin.token);
    expect(empty.data.costUsers).toMatchObject({ totalCount: 8, edges: [], pageInfo: { hasNextPage: false } });
  });

  it('costUsers filters by username or name, case-insensitively, with LIKE wildcards taken literally', async () => {
    const usernames = async (username: string) => {
      const res: any = await server.gql(USERS, { ...range, username }, admin.token);
      expect(res.errors).toBeUndefined();
      expect(res.data.costUsers.totalCount).toBe(res.data.costUsers.edges.length);
      return res.data.costUsers.edges.map((e: any) => e.node.user.username);
    };
    expect(await usernames('A_B')).toEqual(['a_b']); // "_" would match the x of axb as a wildcard
    expect(await usernames('_')).toEqual(['a_b']);
    expect(await usernames('%')).toEqual(['percent']); // only a literal % (in "100% sure")
    expect(await usernames('100%')).toEqual(['percent']);
    expect(await usernames('100 ')).toEqual(['plain']);
    expect(await usernames('SURE')).toEqual(['percent', 'plain']); // names match too
    expect(await usernames('\\')).toEqual([]);
    expect(await usernames('')).toHaveLength(8); // empty = no filter
  });

  it('costUsers rejects malformed and foreign cursors and bad page sizes', async () => {
    const chatCursor = Buffer.from(`chat:1:${chats.r1}`).toString('base64url');
    const bogus = Buffer.from('costuser:abc:bob').toString('base64url');
    for (const variables of [{ after: 'garbage!' }, { after: chatCursor }, { after: bogus }, { first: 0 }, { first: 101 }, { start: range.end, end: range.start }]) {
      const res = await server.gql(USERS, { ...range, ...variables }, admin.token);
      expect(res.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT' });
    }
  });

  it('Chat.cost shares the totals rules: the family, every time, assistant messages only', async () => {
    const query = `query($id: ID!) { chat(id: $id) { cost { ${TOTALS} } } }`;
    const root = await server.gql<{ chat: any }>(query, { id: encodeGlobalID('Chat', chats.r1) }, alice.token);
    expect(root.data!.chat.cost).toEqual(
      totals({ totalCostMicros: String(6525 + 5300 + 1800 + 99999 + 77777), pricedMessageCount: 5, totalInputTokens: '3402', totalOutputTokens: '340', totalCacheReadTokens: '1500', totalCacheCreationTokens: '100', totalRuntimeMs: '2300' }),
    );
    const child = await server.gql<{ chat: any }>(query, { id: encodeGlobalID('Chat', chats.c1) }, alice.token);
    expect(child.data!.chat.cost).toEqual(totals({ totalCostMicros: '1800', pricedMessageCount: 1, totalInputTokens: '400', totalOutputTokens: '40', totalRuntimeMs: '300' }));
  });
});
