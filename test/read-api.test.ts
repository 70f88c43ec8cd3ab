import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onQuery } from '../src/db/index.js';
import { seedDemo } from '../src/db/seed.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createToken } from '../src/auth/admin.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const ALICE = '00000000-0000-4000-8000-000000000001';
const chatGid = (id: string) => encodeGlobalID('Chat', id);

const DASHBOARD = /* GraphQL */ `
  query Dashboard($first: Int, $after: String) {
    chats(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges {
        cursor
        node {
          id title status lastError archived pinOrder labels workspaceId createdAt updatedAt
          owner { id username }
          lastModelConfig { id displayName provider model contextLimit pricing { inputPricePerMillionTokens outputPricePerMillionTokens cacheReadPricePerMillionTokens cacheWritePricePerMillionTokens } }
          diffStatus { url pullRequestState pullRequestTitle pullRequestDraft headBranch baseBranch additions deletions changedFiles prNumber approved reviewerCount commits authorLogin changesRequested refreshedAt staleAt updatedAt }
          queuedMessages { id databaseId parts { __typename ... on ChatTextPart { text } } modelConfig { displayName } createdBy { username } createdAt }
          lastTurnSummary
          hasUnread
          cost { totalCostMicros pricedMessageCount unpricedMessageCount totalInputTokens totalOutputTokens totalCacheReadTokens totalCacheCreationTokens totalRuntimeMs }
          children { id title status parent { id } root { id } }
        }
      }
    }
  }
`;

describe('read API', () => {
  let t: TestDatabase;
  let server: TestServer;
  const tokens: Record<string, string> = {};
  let carol: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    await seedDemo(t.db);
    for (const [username, scopes] of [['alice', ['user']], ['bob', ['user']], ['admin', ['user', 'admin']], ['worker', ['worker']]] as const) {
      tokens[username] = (await createToken(t.db, { username, scopes: [...scopes] })).token;
    }
    carol = await makeUser(t.db, { username: 'carol' });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('the dashboard query returns every field of the seeded chats', async () => {
    const res = await server.gql<{ chats: any }>(DASHBOARD, { first: 50 }, tokens.alice);
    expect(res.errors).toBeUndefined();
    const { chats } = res.data!;
    expect(chats.totalCount).toBe(5); // alice's root chats (the sub-agent is listed under its parent)
    expect(chats.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    const byTitle = Object.fromEntries(chats.edges.map((e: any) => [e.node.title, e.node]));
    expect(Object.keys(byTitle)).toEqual(['Add dark mode', 'Deploy approval', 'Fix flaky login test', 'Investigate memory leak', 'Old experiment']);

    const flaky = byTitle['Fix flaky login test'];
    expect(flaky).toMatchObject({
      status: 'WAITING',
      labels: { repo: 'web', kind: 'bug' },
      pinOrder: 1,
      owner: { username: 'alice' },
      lastModelConfig: {
        displayName: 'Claude Sonnet 4.5',
        contextLimit: '200000',
        pricing: { inputPricePerMillionTokens: '3', outputPricePerMillionTokens: '15', cacheReadPricePerMillionTokens: '0.3', cacheWritePricePerMillionTokens: '3.75' },
      },
      diffStatus: { pullRequestState: 'OPEN', pullRequestTitle: 'Fix flaky login test', pullRequestDraft: false, headBranch: 'fix/flaky-login', baseBranch: 'main', additions: 14, deletions: 3, changedFiles: 2, prNumber: 128, approved: true, reviewerCount: 1, commits: 2, authorLogin: 'alice' },
      queuedMessages: [],
      hasUnread: true,
      lastTurnSummary: 'The test races the session cookie write. I added an explicit wait on the cookie and the test passed 200 runs in a row.',
      // 12400*3 + 2100*15 + 8000*0.3 + 1200*3.75 = 75600 micro-USD
      cost: { totalCostMicros: '75600', pricedMessageCount: 1, unpricedMessageCount: 0, totalInputTokens: '12400', totalOutputTokens: '2100', totalCacheReadTokens: '8000', totalCacheCreationTokens: '1200', totalRuntimeMs: '48000' },
      children: [],
    });
    expect(new Date(flaky.diffStatus.refreshedAt).getTime()).toBeGreaterThan(0);

    const dark = byTitle['Add dark mode'];
    expect(dark.status).toBe('RUNNING');
    expect(dark.lastModelConfig.displayName).toBe('GPT-4.1');
    expect(dark.queuedMessages).toEqual([
      expect.objectContaining({ parts: [{ __typename: 'ChatTextPart', text: 'Also make the toggle remember the choice.' }], modelConfig: { displayName: 'Claude Sonnet 4.5' }, createdBy: { username: 'alice' } }),
    ]);

    const leak = byTitle['Investigate memory leak'];
    expect(leak).toMatchObject({ status: 'ERROR', lastError: 'tool "run_tests" timed out after 600s' });
    expect(leak.children).toEqual([{ id: expect.any(String), title: 'Sub-agent: write migration', status: 'COMPLETED', parent: { id: leak.id }, root: { id: leak.id } }]);
    // Parent cost rolls up its child: 30500*3+4200*15+20000*0.3+5000*3.75 = 179250, child on the free model = 0.
    expect(leak.cost).toMatchObject({ totalCostMicros: '179250', pricedMessageCount: 2, totalInputTokens: '38500' });

    const old = byTitle['Old experiment'];
    expect(old).toMatchObject({ archived: true, cost: { totalCostMicros: '0', pricedMessageCount: 0, unpricedMessageCount: 1 } });
    expect(old.lastModelConfig.pricing.inputPricePerMillionTokens).toBeNull();
  });

  it('messages: user-visible transcript with parts, usage, cost and model', async () => {
    const res = await server.gql<any>(
      `query($id: ID!) { chat(id: $id) { messages(first: 10) { totalCount: __typename nodes { databaseId role visibility contentVersion compressed createdAt createdBy { username } modelConfig { model } totalCostMicros usage { inputTokens outputTokens totalTokens reasoningTokens cacheReadTokens cacheCreationTokens contextLimit } parts { __typename ... on ChatTextPart { text } } chat { title } } } } }`,
      { id: chatGid('20000000-0000-4000-8000-000000000001') },
      tokens.alice,
    );
    expect(res.errors).toBeUndefined();
    const [user, assistant] = res.data.chat.messages.nodes;
    expect(user).toMatchObject({ role: 'USER', visibility: 'BOTH', contentVersion: 1, createdBy: { username: 'alice' }, usage: null, totalCostMicros: null, chat: { title: 'Fix flaky login test' } });
    expect(assistant).toMatchObject({
      role: 'ASSISTANT',
      createdBy: null,
      modelConfig: { model: 'claude-sonnet-4-5' },
      totalCostMicros: '75600',
      usage: { inputTokens: '12400', outputTokens: '2100', totalTokens: '14500', reasoningTokens: '600', cacheReadTokens: '8000', cacheCreationTokens: '1200', contextLimit: '200000' },
    });
    expect(BigInt(assistant.databaseId)).toBeGreaterThan(BigInt(user.databaseId));
  });

  it('modelConfigs lists live enabled configs, default first; node() resolves every entity type', async () => {
    await t.db.none("UPDATE chat_model_configs SET enabled = false WHERE model = 'gpt-4.1'");
    const enabled = await server.gql<any>('{ modelConfigs { displayName isDefault enabled } }', {}, tokens.bob);
    expect(enabled.data.modelConfigs.map((m: any) => m.displayName)).toEqual(['Claude Sonnet 4.5', 'Experimental (unpriced)', 'Llama 3.3 (local, free)']);
    expect(enabled.data.modelConfigs[0].isDefault).toBe(true);
    const all = await server.gql<any>('{ modelConfigs(includeDisabled: true) { displayName } }', {}, tokens.bob);
    expect(all.data.modelConfigs).toHaveLength(4);
    await t.db.none("UPDATE chat_model_configs SET enabled = true WHERE model = 'gpt-4.1'");

    const ids = [encodeGlobalID('User', ALICE), chatGid('20000000-0000-4000-8000-000000000001'), encodeGlobalID('ChatModelConfig', MODEL.gpt)];
    const nodes = await server.gql<any>(
      `query($a: ID!, $b: ID!, $c: ID!) { a: node(id: $a) { __typename id } b: node(id: $b) { __typename ... on Chat { title } } c: node(id: $c) { __typename ... on ChatModelConfig { model } } }`,
      { a: ids[0], b: ids[1], c: ids[2] },
      tokens.alice,
    );
    expect(nodes.data).toEqual({ a: { __typename: 'User', id: ids[0] }, b: { __typename: 'Chat', title: 'Fix flaky login test' }, c: { __typename: 'ChatModelConfig', model: 'gpt-4.1' } });
  });

  describe('scoping', () => {
    it("another user's chat is null by id and by node; lists never include it", async () => {
      const aliceChat = chatGid('20000000-0000-4000-8000-000000000001');
      const res = await server.gql<any>(`query($id: ID!) { chat(id: $id) { id } node(id: $id) { id } }`, { id: aliceChat }, tokens.bob);
      expect(res.data).toEqual({ chat: null, node: null });
      const list = await server.gql<any>('{ chats { totalCount nodes { title owner { username } } } }', {}, tokens.bob);
      expect(list.data.chats).toEqual({ totalCount: 1, nodes: [{ title: "Bob's refactor", owner: { username: 'bob' } }] });
      const none = await server.gql<any>('{ chats { totalCount nodes { id } } }', {}, carol.token);
      expect(none.data.chats).toEqual({ totalCount: 0, nodes: [] });
    });

    it('admins read any chat and list everyone with allUsers; users may not', async () => {
      const aliceChat = chatGid('20000000-0000-4000-8000-000000000001');
      const res = await server.gql<any>(`query($id: ID!) { chat(id: $id) { title owner { username } } }`, { id: aliceChat }, tokens.admin);
      expect(res.data.chat).toEqual({ title: 'Fix flaky login test', owner: { username: 'alice' } });
      const own = await server.gql<any>('{ chats { totalCount } }', {}, tokens.admin);
      expect(own.data.chats.totalCount).toBe(0);
      const all = await server.gql<any>('{ chats(allUsers: true) { totalCount } }', {}, tokens.admin);
      expect(all.data.chats.totalCount).toBe(6);
      const denied = await server.gql<any>('{ chats(allUsers: true) { totalCount } }', {}, tokens.alice);
      expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it('promptMessages needs a worker or admin token', async () => {
      const q = `query($id: ID!) { chat(id: $id) { promptMessages { role } } }`;
      const id = chatGid('20000000-0000-4000-8000-000000000001');
      const user = await server.gql<any>(q, { id }, tokens.alice);
      expect(user.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const worker = await server.gql<any>(q, { id }, tokens.worker);
      expect(worker.data.chat.promptMessages.map((m: any) => m.role)).toEqual(['USER', 'ASSISTANT']);
    });
  });

  describe('filters and pagination', () => {
    let owner: TestUser;
    const ids: string[] = [];

    beforeAll(async () => {
      owner = await makeUser(t.db, { username: 'pager' });
      // 12 chats, distinct updated_at (newest = index 0), every third archived, labels alternate.
      for (let i = 0; i < 12; i++) {
        ids.push(
          await insertChat(t.db, owner.user.id, {
            title: `c${i}`,
            archived: i % 3 === 2,
            labels: { team: i % 2 === 0 ? 'red' : 'blue', n: String(i) },
            updatedAt: new Date(Date.UTC(2026, 0, 1) - i * 60_000),
          }),
        );
      }
    });

    const page = async (args: string, token = owner.token) =>
      server.gql<any>(`{ chats(${args}) { totalCount edges { cursor node { title } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`, {}, token);

    it('archived is tri-state; labels filter by containment', async () => {
      expect((await page('first: 100')).data.chats.totalCount).toBe(12);
      expect((await page('archived: true')).data.chats.edges.map((e: any) => e.node.title)).toEqual(['c2', 'c5', 'c8', 'c11']);
      expect((await page('archived: false')).data.chats.totalCount).toBe(8);
      const red = await page('labels: { team: "red" }');
      expect(red.data.chats.edges.map((e: any) => e.node.title)).toEqual(['c0', 'c2', 'c4', 'c6', 'c8', 'c10']);
      expect((await page('labels: { team: "red", n: "4" }, archived: false')).data.chats.edges.map((e: any) => e.node.title)).toEqual(['c4']);
      const bad = await page('labels: ["red"]');
      expect(bad.errors?.[0]).toMatchObject({ message: expect.stringMatching(/labels/), extensions: { code: 'BAD_USER_INPUT' } });
    });

    it('forward pages are stable while rows are updated between pages', async () => {
      const p1 = await page('first: 5');
      expect(p1.data.chats.edges.map((e: any) => e.node.title)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
      expect(p1.data.chats.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      // c7 is bumped to the top and c2 (already seen) too: neither may disturb the next page.
      await t.db.none('UPDATE chats SET updated_at = now() WHERE id = ANY($1::uuid[])', [[ids[7], ids[2]]]);
      const p2 = await page(`first: 5, after: "${p1.data.chats.pageInfo.endCursor}"`);
      expect(p2.data.chats.edges.map((e: any) => e.node.title)).toEqual(['c5', 'c6', 'c8', 'c9', 'c10']);
      expect(p2.data.chats.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
      const p3 = await page(`first: 5, after: "${p2.data.chats.pageInfo.endCursor}"`);
      expect(p3.data.chats.edges.map((e: any) => e.node.title)).toEqual(['c11']);
      expect(p3.data.chats.pageInfo.hasNextPage).toBe(false);
      const top = await page('first: 2');
      expect(top.data.chats.edges.map((e: any) => e.node.title).sort()).toEqual(['c2', 'c7']);
    });

    it('backward pages with last/before walk from the end', async () => {
      const last = await page('last: 4');
      const titles = last.data.chats.edges.map((e: any) => e.node.title);
      expect(titles).toEqual(['c8', 'c9', 'c10', 'c11']);
      expect(last.data.chats.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
      const before = await page(`last: 4, before: "${last.data.chats.pageInfo.startCursor}"`);
      // The earlier test bumped c2 and c7 to the top: c0, c1 follow them.
      expect(before.data.chats.edges.map((e: any) => e.node.title)).toEqual(['c3', 'c4', 'c5', 'c6']);
      expect(before.data.chats.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
      const rest = await page(`last: 10, before: "${before.data.chats.pageInfo.startCursor}"`);
      const restTitles = rest.data.chats.edges.map((e: any) => e.node.title);
      expect(restTitles.slice(0, 2).sort()).toEqual(['c2', 'c7']);
      expect(restTitles.slice(2)).toEqual(['c0', 'c1']);
      expect(rest.data.chats.pageInfo.hasPreviousPage).toBe(false);
    });

    it.each([
      ['first: 0', /first/],
      ['first: 101', /first/],
      ['last: -1', /last/],
      ['first: 2, last: 2', /either "first" or "last"/],
      ['after: "bm9wZQ"', /Invalid cursor/],
      ['after: "%%%"', /Invalid cursor/],
      ['before: "' + Buffer.from('msg:12').toString('base64url') + '"', /Invalid cursor/],
      ['after: "' + Buffer.from('chat:abc:def').toString('base64url') + '"', /Invalid cursor/],
    ])('%s → BAD_USER_INPUT', async (args, message) => {
      const res = await page(args);
      expect(res.data).toBeNull();
      expect(res.errors?.[0]).toMatchObject({ message: expect.stringMatching(message), extensions: { code: 'BAD_USER_INPUT' } });
    });

    it('invalid ids are typed errors, never SQL errors', async () => {
      for (const id of ['nope', encodeGlobalID('Chat', 'not-a-uuid'), encodeGlobalID('User', ALICE)]) {
        const res = await server.gql<any>('query($id: ID!) { chat(id: $id) { id } }', { id }, owner.token);
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
      const node = await server.gql<any>('query($id: ID!) { node(id: $id) { id } }', { id: encodeGlobalID('Chat', 'x; DROP TABLE chats') }, owner.token);
      expect(node.data).toEqual({ node: null });
    });
  });

  describe('messages pagination, visibility and content', () => {
    let owner: TestUser;
    let chatId: string;
    const messageIds: string[] = [];

    beforeAll(async () => {
      owner = await makeUser(t.db, { username: 'talker' });
      chatId = await insertChat(t.db, owner.user.id, { title: 'long' });
      for (let i = 0; i < 7; i++) messageIds.push(await insertMessage(t.db, chatId, { role: i % 2 ? 'assistant' : 'user', text: `m${i}` }));
      await insertMessage(t.db, chatId, { role: 'system', text: 'model only', visibility: 'model' });
      await insertMessage(t.db, chatId, { role: 'user', text: 'edited away', deleted: true });
    });

    const texts = (res: any) => res.data.chat.messages.edges.map((e: any) => e.node.parts[0].text);
    const q = (args: string) =>
      server.gql<any>(
        `query($id: ID!) { chat(id: $id) { messages(${args}) { edges { cursor node { parts { ... on ChatTextPart { text } } } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`,
        { id: chatGid(chatId) },
        owner.token,
      );

    it('pages forward and backward by id, hiding model-only and deleted messages', async () => {
      const p1 = await q('first: 3');
      expect(texts(p1)).toEqual(['m0', 'm1', 'm2']);
      const p2 = await q(`first: 3, after: "${p1.data.chat.messages.pageInfo.endCursor}"`);
      expect(texts(p2)).toEqual(['m3', 'm4', 'm5']);
      const p3 = await q(`first: 3, after: "${p2.data.chat.messages.pageInfo.endCursor}"`);
      expect(texts(p3)).toEqual(['m6']);
      expect(p3.data.chat.messages.pageInfo.hasNextPage).toBe(false);
      const newest = await q('last: 2');
      expect(texts(newest)).toEqual(['m5', 'm6']);
      const older = await q(`last: 4, before: "${newest.data.chat.messages.pageInfo.startCursor}"`);
      expect(texts(older)).toEqual(['m1', 'm2', 'm3', 'm4']);
      expect(older.data.chat.messages.pageInfo.hasPreviousPage).toBe(true);
      const chatCursor = Buffer.from(`chat:1:${chatId}`).toString('base64url');
      expect((await q(`after: "${chatCursor}"`)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('reads legacy version 0 content and reports an unknown version on that message only', async () => {
      const legacy = await insertChat(t.db, owner.user.id, { title: 'legacy' });
      await insertMessage(t.db, legacy, { role: 'user', content: 'plain legacy string', version: 0 });
      await insertMessage(t.db, legacy, {
        role: 'assistant',
        version: 0,
        content: { content: 'Let me look.', reasoning: 'think', tool_calls: [{ id: 'call_1', name: 'read_file', arguments: '{"path":"a.ts"}' }] },
      });
      await insertMessage(t.db, legacy, { role: 'tool', version: 0, content: { tool_call_id: 'call_1', name: 'read_file', content: 'file body', is_error: false } });
      await insertMessage(t.db, legacy, { role: 'assistant', version: 0, content: [{ type: 'text', text: 'snake array' }, { type: 'tool_call', tool_call_id: 'c2', tool_name: 'ls', args: {} }] });
      await insertMessage(t.db, legacy, { role: 'assistant', version: 7, content: [{ type: 'text', text: 'from the future' }] });
      await insertMessage(t.db, legacy, { role: 'user', text: 'still readable' });
      const res = await server.gql<any>(
        `query($id: ID!) { chat(id: $id) { title lastTurnSummary messages { edges { node { contentVersion parts {
            __typename
            ... on ChatTextPart { text }
            ... on ChatReasoningPart { text }
            ... on ChatToolCallPart { toolCallId toolName args }
            ... on ChatToolResultPart { toolCallId toolName result isError }
        } } } } } }`,
        { id: chatGid(legacy) },
        owner.token,
      );
      const edges = res.data.chat.messages.edges;
      expect(edges[0].node.parts).toEqual([{ __typename: 'ChatTextPart', text: 'plain legacy string' }]);
      expect(edges[1].node.parts).toEqual([
        { __typename: 'ChatReasoningPart', text: 'think' },
        { __typename: 'ChatTextPart', text: 'Let me look.' },
        { __typename: 'ChatToolCallPart', toolCallId: 'call_1', toolName: 'read_file', args: { path: 'a.ts' } },
      ]);
      expect(edges[2].node.parts).toEqual([{ __typename: 'ChatToolResultPart', toolCallId: 'call_1', toolName: 'read_file', result: 'file body', isError: false }]);
      expect(edges[3].node.parts[1]).toEqual({ __typename: 'ChatToolCallPart', toolCallId: 'c2', toolName: 'ls', args: {} });
      // The unknown version nulls only its own edge and reports an error at that path.
      expect(edges[4]).toBeNull();
      expect(edges[5].node.parts).toEqual([{ __typename: 'ChatTextPart', text: 'still readable' }]);
      expect(res.errors).toHaveLength(2);
      expect(res.errors).toEqual(expect.arrayContaining([
        expect.objectContaining({ message: 'unknown content version 7', extensions: { code: 'UNREADABLE_CONTENT' }, path: ['chat', 'messages', 'edges', 4, 'node', 'parts'] }),
        expect.objectContaining({ message: 'unknown content version 7', extensions: { code: 'UNREADABLE_CONTENT' }, path: ['chat', 'lastTurnSummary'] }),
      ]));
      expect(res.data.chat.title).toBe('legacy');
      // lastTurnSummary reads the newest assistant message, the unreadable one: an error on that field.
      expect(res.data.chat.lastTurnSummary).toBeNull();
    });

    it('promptMessages: system, newest summary and what follows it', async () => {
      const chat = await insertChat(t.db, owner.user.id, { title: 'compacted' });
      await insertMessage(t.db, chat, { role: 'system', text: 'sys' });
      await insertMessage(t.db, chat, { role: 'user', text: 'old question', compressed: true });
      await insertMessage(t.db, chat, { role: 'user', text: 'summary 1', compressed: true, visibility: 'model' });
      await insertMessage(t.db, chat, { role: 'assistant', text: 'between' });
      await insertMessage(t.db, chat, { role: 'user', text: 'summary 2', compressed: true, visibility: 'model' });
      await insertMessage(t.db, chat, { role: 'assistant', text: 'after' });
      await insertMessage(t.db, chat, { role: 'user', text: 'ui only', visibility: 'user' });
      await insertMessage(t.db, chat, { role: 'user', text: 'edited', deleted: true });
      await insertMessage(t.db, chat, { role: 'user', text: 'latest' });
      const { token } = await createToken(t.db, { username: 'worker', scopes: ['worker'] });
      const res = await server.gql<any>(`query($id: ID!) { chat(id: $id) { promptMessages { role parts { ... on ChatTextPart { text } } } } }`, { id: chatGid(chat) }, token);
      expect(res.data.chat.promptMessages.map((m: any) => m.parts[0].text)).toEqual(['sys', 'summary 2', 'after', 'latest']);
    });

    it('lastTurnSummary is trimmed and truncated; hasUnread follows the read marker', async () => {
      const chat = await insertChat(t.db, owner.user.id, { title: 'summary' });
      const q = () => server.gql<any>(`query($id: ID!) { chat(id: $id) { lastTurnSummary hasUnread } }`, { id: chatGid(chat) }, owner.token);
      expect((await q()).data.chat).toEqual({ lastTurnSummary: null, hasUnread: false });
      await insertMessage(t.db, chat, { role: 'user', text: 'question' });
      expect((await q()).data.chat.hasUnread).toBe(false);
      const long = `  ${'word '.repeat(100)}\n\n end  `;
      const id = await insertMessage(t.db, chat, { role: 'assistant', content: [{ type: 'reasoning', text: 'hidden' }, { type: 'text', text: long }] });
      const r = (await q()).data.chat;
      expect(r.hasUnread).toBe(true);
      expect([...r.lastTurnSummary]).toHaveLength(200);
      expect(r.lastTurnSummary.startsWith('word word')).toBe(true);
      expect(r.lastTurnSummary.endsWith('…')).toBe(true);
      await t.db.none('UPDATE chats SET last_read_message_id = $1 WHERE id = $2', [id, chat]);
      expect((await q()).data.chat.hasUnread).toBe(false);
    });
  });

  describe('batching', () => {
    let owner: TestUser;

    beforeAll(async () => {
      owner = await makeUser(t.db, { username: 'dashboard' });
      const models = [MODEL.priced, MODEL.gpt, MODEL.free, MODEL.unpriced];
      for (let i = 0; i < 50; i++) {
        const chat = await insertChat(t.db, owner.user.id, { title: `d${i}`, model: models[i % 4], updatedAt: new Date(Date.UTC(2026, 1, 1) - i * 1000) });
        await insertMessage(t.db, chat, { role: 'user', text: 'q' });
        await insertMessage(t.db, chat, { role: 'assistant', text: `answer ${i}`, input: 100, output: 10, cost: 450, model: models[i % 4] });
        await t.db.none("INSERT INTO chat_queued_messages (chat_id, content, model_config_id) VALUES ($1, '[{\"type\":\"text\",\"text\":\"next\"}]', $2)", [chat, models[(i + 1) % 4]]);
        if (i % 2 === 0) await t.db.none("INSERT INTO chat_diff_statuses (chat_id, url, pull_request_state, head_branch) VALUES ($1, 'u', 'open', 'b')", [chat]);
        if (i % 5 === 0) await insertChat(t.db, owner.user.id, { title: `child of d${i}`, parent: chat });
      }
    });

    async function countStatements(first: number, query = DASHBOARD): Promise<{ statements: string[]; edges: number }> {
      // The token's last_used_at is fresh, so no fire-and-forget touch can land inside the measurement.
      await t.db.none('UPDATE api_tokens SET last_used_at = now()');
      await server.gql('{ viewer { id } }', {}, owner.token);
      const statements: string[] = [];
      const stop = onQuery((q) => statements.push(q));
      try {
        const res = await server.gql<any>(query, { first }, owner.token);
        expect(res.errors).toBeUndefined();
        return { statements, edges: res.data.chats.edges.length };
      } finally {
        stop();
      }
    }

    it('the dashboard query costs at most 6 statements, the same for 10 and 50 chats', async () => {
      const ten = await countStatements(10);
      const fifty = await countStatements(50);
      expect(ten.edges).toBe(10);
      expect(fifty.edges).toBe(50);
      expect(fifty.statements.length).toBe(ten.statements.length);
      expect(fifty.statements.length).toBeLessThanOrEqual(6);
      // page (+ model configs + count), extras, cost: the layout the README documents. The
      // token was checked by the warm-up request and is served from the token cache.
      expect(fifty.statements.length).toBe(3);
    });

    it('a chat field the operation does not select costs nothing in Postgres', async () => {
      const page = (fields: string) => `query ($first: Int) { chats(first: $first) { edges { node { id ${fields} } } } }`;
      const extras = (statements: string[]) => statements.filter((q) => /FROM chats c WHERE c\.id = ANY/.test(q));
      // What each part's subquery reads; a statement for one part must not hold another's.
      const reads = {
        diffStatus: /chat_diff_statuses/,
        queuedMessages: /chat_queued_messages/,
        children: /parent_chat_id/,
        lastTurnSummary: /AS last_turn/,
        hasUnread: /AS has_unread/,
      };
      for (const [field, pattern] of Object.entries(reads)) {
        const selection = field === 'diffStatus' ? 'diffStatus { url }' : field === 'queuedMessages' ? 'queuedMessages { id }' : field === 'children' ? 'children { id }' : field;
        const { statements, edges } = await countStatements(50, page(selection));
        expect(edges).toBe(50);
        const [statement, ...more] = extras(statements);
        expect(more).toEqual([]);
        expect(statement).toMatch(pattern);
        for (const [other, otherPattern] of Object.entries(reads)) if (other !== field) expect(statement, `${field} reads for ${other}`).not.toMatch(otherPattern);
      }
      const none = await countStatements(50, page('title status'));
      expect(extras(none.statements)).toEqual([]);
      // The page alone for plain columns (the token comes from the token cache).
      expect(none.statements).toHaveLength(1);
      // Two parts together still cost one statement.
      const two = await countStatements(50, page('diffStatus { url } hasUnread'));
      expect(extras(two.statements)).toHaveLength(1);
      expect(extras(two.statements)[0]).toMatch(reads.diffStatus);
      expect(extras(two.statements)[0]).toMatch(reads.hasUnread);
      expect(extras(two.statements)[0]).not.toMatch(reads.queuedMessages);
      expect(extras(two.statements)[0]).not.toMatch(/chat_messages m/);
    });
  });
});
