import { getNamedType, isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../src/auth/admin.js';
import { schema } from '../src/schema/index.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/**
 * The authorization matrix: every root field of the schema × every kind of caller, with the
 * outcome each cell must have written down. A root field added to the schema without a row
 * here fails the first test. Outcomes:
 * - `visible`: answered, and the answer contains the target (alice's chat, or the changed row);
 * - `hidden`: answered, without the target (a list of the caller's own things, a null);
 * - `ok`: a success payload of a mutation / a started subscription;
 * - `notFound` / `forbidden` / `unauthenticated`: the typed error, or the error code.
 * "Not yours" must look like "does not exist" (notFound / hidden), never like forbidden.
 */
type Outcome = 'visible' | 'hidden' | 'ok' | 'notFound' | 'forbidden' | 'unauthenticated';
const PRINCIPALS = ['anonymous', 'owner', 'other', 'admin', 'worker', 'expired', 'revoked', 'unknown', 'wrongScope', 'adminOnly'] as const;
type Principal = (typeof PRINCIPALS)[number];

/** The chat (and rows) a cell acts on, made fresh for every cell so mutations cannot interfere. */
interface Target {
  chatOwner: string;
  chatId: string;
  chat: string;
  message: string;
  queued: string;
  model: string;
}

interface Row {
  /** `subscription` rows run over graphql-ws; the others over HTTP. */
  kind: 'query' | 'mutation' | 'subscription';
  document: (target: Target) => { query: string; variables?: Record<string, unknown> };
  /**
   * Expected outcome for anonymous, owner, other user, admin (user + admin scopes), worker-only
   * token, wrongScope (an admin user's token without the admin scope), adminOnly (an admin
   * token without the user scope); bad tokens (expired, revoked, unknown) are always unauthenticated.
   */
  expect: [anonymous: Outcome, owner: Outcome, other: Outcome, admin: Outcome, worker: Outcome, wrongScope: Outcome, adminOnly: Outcome];
}

const RESULT = '__typename ... on Error { message }';
const m = (name: string, input: (t: Target) => Record<string, unknown>, select = ''): Row['document'] => (target) => ({
  query: `mutation($input: ${name[0]!.toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { ${RESULT} ${select} } }`,
  variables: { input: input(target) },
});
const USER_MUTATION: Row['expect'] = ['unauthenticated', 'ok', 'notFound', 'forbidden', 'forbidden', 'notFound', 'forbidden'];
const WORKER_MUTATION: Row['expect'] = ['unauthenticated', 'forbidden', 'forbidden', 'forbidden', 'ok', 'forbidden', 'forbidden'];
const ADMIN_MUTATION: Row['expect'] = ['unauthenticated', 'forbidden', 'forbidden', 'ok', 'forbidden', 'forbidden', 'ok'];
const text = [{ type: 'TEXT', text: 'hi' }];

const ROWS: Record<string, Row> = {
  // Queries
  viewer: { kind: 'query', document: () => ({ query: '{ viewer { id } }' }), expect: ['unauthenticated', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'] },
  chat: { kind: 'query', document: (t) => ({ query: 'query($id: ID!) { chat(id: $id) { id lastTurnSummary } }', variables: { id: t.chat } }), expect: ['unauthenticated', 'visible', 'hidden', 'visible', 'visible', 'hidden', 'visible'] },
  chats: { kind: 'query', document: () => ({ query: '{ chats(first: 100) { nodes { id } } }' }), expect: ['unauthenticated', 'visible', 'hidden', 'hidden', 'hidden', 'hidden', 'hidden'] },
  node: { kind: 'query', document: (t) => ({ query: 'query($id: ID!) { node(id: $id) { id } }', variables: { id: t.chat } }), expect: ['unauthenticated', 'visible', 'hidden', 'visible', 'visible', 'hidden', 'visible'] },
  modelConfigs: { kind: 'query', document: () => ({ query: '{ modelConfigs { id } }' }), expect: ['unauthenticated', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'] },
  costSummary: {
    kind: 'query',
    document: (t) => ({ query: 'query($u: ID) { costSummary(userId: $u) { totalCostMicros } }', variables: { u: t.chatOwner } }),
    expect: ['unauthenticated', 'ok', 'forbidden', 'ok', 'forbidden', 'forbidden', 'ok'],
  },
  costUsers: { kind: 'query', document: () => ({ query: '{ costUsers { nodes { user { id } } } }' }), expect: ['unauthenticated', 'forbidden', 'forbidden', 'ok', 'forbidden', 'forbidden', 'ok'] },
  // User mutations: the owner's chats only; the user scope is required.
  createChat: { kind: 'mutation', document: m('createChat', () => ({ content: text })), expect: ['unauthenticated', 'ok', 'ok', 'ok', 'forbidden', 'ok', 'forbidden'] },
  sendChatMessage: { kind: 'mutation', document: m('sendChatMessage', (t) => ({ chatId: t.chat, content: text })), expect: USER_MUTATION },
  editChatMessage: { kind: 'mutation', document: m('editChatMessage', (t) => ({ chatId: t.chat, messageId: t.message, content: text })), expect: USER_MUTATION },
  promoteQueuedMessage: { kind: 'mutation', document: m('promoteQueuedMessage', (t) => ({ chatId: t.chat, queuedMessageId: t.queued })), expect: USER_MUTATION },
  deleteQueuedMessage: { kind: 'mutation', document: m('deleteQueuedMessage', (t) => ({ chatId: t.chat, queuedMessageId: t.queued })), expect: USER_MUTATION },
  interruptChat: { kind: 'mutation', document: m('interruptChat', (t) => ({ chatId: t.chat })), expect: USER_MUTATION },
  updateChat: { kind: 'mutation', document: m('updateChat', (t) => ({ chatId: t.chat, title: 'renamed' })), expect: USER_MUTATION },
  archiveChat: { kind: 'mutation', document: m('archiveChat', (t) => ({ chatId: t.chat })), expect: USER_MUTATION },
  unarchiveChat: { kind: 'mutation', document: m('unarchiveChat', (t) => ({ chatId: t.chat })), expect: USER_MUTATION },
  markChatRead: { kind: 'mutation', document: m('markChatRead', (t) => ({ chatId: t.chat })), expect: USER_MUTATION },
  retryChat: { kind: 'mutation', document: m('retryChat', (t) => ({ chatId: t.chat })), expect: USER_MUTATION },
  submitToolResults: { kind: 'mutation', document: m('submitToolResults', (t) => ({ chatId: t.chat, results: [{ toolCallId: 'matrix-call', output: true }] })), expect: USER_MUTATION },
  // Worker mutations: the worker scope.
  acquireChats: { kind: 'mutation', document: m('acquireChats', () => ({ workerId: 'matrix-worker', limit: 1 })), expect: WORKER_MUTATION },
  heartbeatChats: { kind: 'mutation', document: m('heartbeatChats', (t) => ({ workerId: 'matrix-worker', chatIds: [t.chat] })), expect: WORKER_MUTATION },
  appendChatMessages: {
    kind: 'mutation',
    document: m('appendChatMessages', (t) => ({ chatId: t.chat, workerId: 'matrix-worker', messages: [{ role: 'ASSISTANT', parts: [{ type: 'text', text: 'out' }] }] })),
    expect: WORKER_MUTATION,
  },
  publishChatMessageParts: {
    kind: 'mutation',
    document: m('publishChatMessageParts', (t) => ({ chatId: t.chat, workerId: 'matrix-worker', attempt: 1, seq: 0, parts: [{ type: 'text', text: 'x' }] })),
    expect: WORKER_MUTATION,
  },
  createChildChat: { kind: 'mutation', document: m('createChildChat', (t) => ({ parentChatId: t.chat, workerId: 'matrix-worker', content: text })), expect: WORKER_MUTATION },
  finishChatRun: { kind: 'mutation', document: m('finishChatRun', (t) => ({ chatId: t.chat, workerId: 'matrix-worker', status: 'WAITING' })), expect: WORKER_MUTATION },
  upsertChatDiffStatus: {
    kind: 'mutation',
    document: m('upsertChatDiffStatus', (t) => ({ chatId: t.chat, pullRequestTitle: 'pr', pullRequestDraft: false, changesRequested: false, additions: 1, deletions: 0, changedFiles: 1 })),
    expect: WORKER_MUTATION,
  },
  // Admin mutations: an admin user on a token with the admin scope.
  createModelConfig: { kind: 'mutation', document: m('createModelConfig', () => ({ provider: 'p', model: 'm', contextLimit: '1000' })), expect: ADMIN_MUTATION },
  updateModelConfig: { kind: 'mutation', document: m('updateModelConfig', (t) => ({ id: t.model, displayName: 'renamed' })), expect: ADMIN_MUTATION },
  deleteModelConfig: { kind: 'mutation', document: m('deleteModelConfig', (t) => ({ id: t.model })), expect: ADMIN_MUTATION },
  setDefaultModelConfig: { kind: 'mutation', document: m('setDefaultModelConfig', (t) => ({ id: t.model })), expect: ADMIN_MUTATION },
  // Subscriptions (graphql-ws; a refused connection counts as unauthenticated).
  chatWatch: { kind: 'subscription', document: () => ({ query: 'subscription { chatWatch { kind } }' }), expect: ['unauthenticated', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'] },
  chatEvents: { kind: 'subscription', document: (t) => ({ query: 'subscription($id: ID!) { chatEvents(chatId: $id) { kind } }', variables: { id: t.chat } }), expect: ['unauthenticated', 'ok', 'notFound', 'ok', 'ok', 'notFound', 'ok'] },
  chatsSettled: {
    kind: 'subscription',
    document: (t) => ({ query: 'subscription($ids: [ID!]!) { chatsSettled(chatIds: $ids) { remaining } }', variables: { ids: [t.chat] } }),
    expect: ['unauthenticated', 'forbidden', 'forbidden', 'forbidden', 'ok', 'forbidden', 'forbidden'],
  },
  modelConfigChanged: { kind: 'subscription', document: () => ({ query: 'subscription { modelConfigChanged { kind } }' }), expect: ['unauthenticated', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'] },
};

/** Which state each mutation's target chat needs so that the allowed caller succeeds. */
const CHAT_STATE: Record<string, { status: string; archived?: boolean; worker?: boolean; toolCall?: boolean }> = {
  submitToolResults: { status: 'requires_action', toolCall: true },
  publishChatMessageParts: { status: 'running', worker: true },
  createChildChat: { status: 'running', worker: true },
  interruptChat: { status: 'running' },
  unarchiveChat: { status: 'waiting', archived: true },
  heartbeatChats: { status: 'running', worker: true },
  appendChatMessages: { status: 'running', worker: true },
  finishChatRun: { status: 'running', worker: true },
  promoteQueuedMessage: { status: 'error' },
  retryChat: { status: 'error' },
};

function rootFields(): string[] {
  return [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) => Object.keys(type!.getFields()));
}

describe('authorization matrix (every root field × every principal)', () => {
  let t: TestDatabase;
  let server: TestServer;
  const tokens = {} as Record<Principal, string | null>;
  let alice: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db, { username: 'alice' });
    const bob = await makeUser(t.db, { username: 'bob' });
    const admin = await makeUser(t.db, { username: 'root', admin: true });
    const worker = await makeUser(t.db, { username: 'worker', scopes: ['worker'] });
    const wrongScope = await makeUser(t.db, { username: 'root2', admin: true, scopes: ['user'] });
    const adminOnly = await makeUser(t.db, { username: 'root3', admin: true, scopes: ['admin'] });
    const expired = await makeUser(t.db, { username: 'late', expiresInMs: 1 });
    const revoked = await createToken(t.db, { username: 'alice', name: 'to revoke' });
    await revokeToken(t.db, revoked.row.id);
    Object.assign(tokens, {
      anonymous: null,
      owner: alice.token,
      other: bob.token,
      admin: admin.token,
      worker: worker.token,
      expired: expired.token,
      revoked: revoked.token,
      unknown: `cg_${'0'.repeat(32)}_${'A'.repeat(43)}`,
      wrongScope: wrongScope.token,
      adminOnly: adminOnly.token,
    });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server?.stop();
    await t.close();
  });

  it('has a row for every root field of the schema, and no row for a field that does not exist', () => {
    expect(Object.keys(ROWS).sort()).toEqual(rootFields().sort());
  });

  async function target(field: string): Promise<Target> {
    const state = CHAT_STATE[field] ?? { status: 'waiting' };
    const chatId = await insertChat(t.db, alice.user.id, { status: state.status, archived: state.archived ?? false, title: `target of ${field}` });
    if (state.worker) await t.db.none(`UPDATE chats SET worker_id = 'matrix-worker', heartbeat_at = now() WHERE id = $1`, [chatId]);
    const messageId = await insertMessage(t.db, chatId, { role: 'user', text: 'first', model: MODEL.priced });
    if (state.toolCall) await insertMessage(t.db, chatId, { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'matrix-call', toolName: 'confirm', args: {} }] });
    const queued = await t.db.one<{ id: string }>(`INSERT INTO chat_queued_messages (chat_id, content, model_config_id) VALUES ($1, '[{"type":"text","text":"q"}]', $2) RETURNING id`, [chatId, MODEL.priced]);
    const model = await t.db.one<{ id: string }>(`INSERT INTO chat_model_configs (provider, model, display_name, context_limit) VALUES ('p', $1, 'target', 1000) RETURNING id`, [`m-${field}-${Math.random()}`]);
    return {
      chatId,
      chat: encodeGlobalID('Chat', chatId),
      message: encodeGlobalID('ChatMessage', messageId),
      queued: encodeGlobalID('ChatQueuedMessage', queued.id),
      model: encodeGlobalID('ChatModelConfig', model.id),
      chatOwner: encodeGlobalID('User', alice.user.id),
    };
  }

  function classify(status: number, body: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: string } }> }, field: string, tgt: Target): Outcome | string {
    const code = body.errors?.[0]?.extensions?.code;
    if (status === 401 || code === 'UNAUTHENTICATED') return 'unauthenticated';
    if (code === 'FORBIDDEN') return 'forbidden';
    if (code === 'NOT_FOUND') return 'notFound';
    if (status >= 500 || code) return `unexpected ${status} ${code}`;
    const value = body.data?.[field] as { __typename?: string } | null | undefined;
    if (value?.__typename === 'ForbiddenError') return 'forbidden';
    if (value?.__typename === 'NotFoundError') return 'notFound';
    if (value?.__typename?.endsWith('Error')) return `unexpected ${value.__typename}: ${JSON.stringify(value)}`;
    if (ROWS[field]!.kind === 'mutation') return 'ok';
    const json = JSON.stringify(value ?? null);
    if (['chat', 'chats', 'node'].includes(field)) return json.includes(tgt.chat) ? 'visible' : 'hidden';
    return 'ok';
  }

  async function runSubscription(token: string | null, doc: { query: string; variables?: Record<string, unknown> }): Promise<Outcome | string> {
    const client = server.ws(token ? { authToken: token } : {});
    const before = server.app.liveSubscriptions;
    const outcome = await new Promise<Outcome | string>((resolve) => {
      let settled = false;
      const done = (outcome: Outcome | string) => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        clearTimeout(limit);
        unsubscribe();
        resolve(outcome);
      };
      // A cell that neither fails nor registers says so instead of hanging the whole matrix.
      const limit = setTimeout(() => done('no answer within 10 s'), 10_000);
      const byCode = (errors: readonly unknown[]) => {
        const code = (errors[0] as { extensions?: { code?: string } }).extensions?.code;
        return code === 'FORBIDDEN' ? 'forbidden' : code === 'NOT_FOUND' ? 'notFound' : code === 'UNAUTHENTICATED' ? 'unauthenticated' : `unexpected ${code}`;
      };
      const unsubscribe = client.subscribe(doc, {
        // A subscription refused by its resolver arrives as one result with errors.
        next: (result) => done(result.errors ? byCode(result.errors) : 'ok'),
        error: (err) => {
          if (Array.isArray(err)) return done(byCode(err));
          const close = (err as { code?: number }).code;
          done(close === 4403 ? 'unauthenticated' : `unexpected close ${close}`);
        },
        complete: () => done('unexpected complete'),
      });
      // Registered and still without an error a moment later (a WebSocket subscription is
      // counted as soon as it is accepted, before its source has started or failed).
      let seen = 0;
      const poll = setInterval(() => {
        if (server.app.liveSubscriptions > before && ++seen > 30) done('ok');
      }, 10);
    });
    // The next cell's baseline must not include this one: wait until the server has let it go.
    await client.dispose();
    for (let i = 0; i < 200 && server.app.liveSubscriptions > before; i++) await new Promise((r) => setTimeout(r, 10));
    return outcome;
  }

  it('every cell has its written-down outcome', async () => {
    const failures: string[] = [];
    let cells = 0;
    for (const [field, row] of Object.entries(ROWS)) {
      // The principals of a query or mutation row run concurrently (each cell has its own target
      // rows); a subscription row's run one after another, since a cell reads the server's count
      // of live subscriptions and a neighbour's would blur it.
      const each = row.kind === 'subscription'
        ? async (f: (p: Principal) => Promise<void>) => { for (const p of PRINCIPALS) await f(p); }
        : async (f: (p: Principal) => Promise<void>) => { await Promise.all(PRINCIPALS.map(f)); };
      await each(async (principal) => {
        const index = { anonymous: 0, owner: 1, other: 2, admin: 3, worker: 4, wrongScope: 5, adminOnly: 6 }[principal as string];
        const expected: Outcome = index === undefined ? 'unauthenticated' : row.expect[index]!;
        const tgt = await target(field);
        const doc = row.document(tgt);
        let actual: Outcome | string;
        if (row.kind === 'subscription') {
          actual = await runSubscription(tokens[principal], doc);
        } else {
          const res = await fetch(server.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(tokens[principal] ? { authorization: `Bearer ${tokens[principal]}` } : {}) },
            body: JSON.stringify(doc),
          });
          actual = classify(res.status, (await res.json()) as never, field, tgt);
        }
        cells++;
        if (actual !== expected) failures.push(`${field} × ${principal}: expected ${expected}, got ${actual}`);
      });
    }
    console.log(`authorization matrix: ${Object.keys(ROWS).length} root fields × ${PRINCIPALS.length} principals = ${cells} cells, ${failures.length} violations`);
    expect(failures).toEqual([]);
  }, 180_000);

  it('"not yours" and "does not exist" get the same answer, through chat, node (any type\'s id) and mutations', async () => {
    const tgt = await target('cross-user');
    const missing = encodeGlobalID('Chat', '00000000-0000-4000-8000-000000000000');
    const asBob = async (query: string, variables: Record<string, unknown>) => {
      const res = await server.gql(query, variables, tokens.other);
      return JSON.stringify(res).replaceAll(tgt.chat, 'ID').replaceAll(missing, 'ID').replaceAll(tgt.chatId, 'RAW').replaceAll('00000000-0000-4000-8000-000000000000', 'RAW');
    };
    for (const [query, vars] of [
      ['query($id: ID!) { chat(id: $id) { id } }', (id: string) => ({ id })],
      ['query($id: ID!) { node(id: $id) { id } }', (id: string) => ({ id })],
      [`mutation($id: ID!) { updateChat(input: { chatId: $id, title: "x" }) { ${RESULT} } }`, (id: string) => ({ id })],
      [`mutation($id: ID!) { sendChatMessage(input: { chatId: $id, content: [{ type: TEXT, text: "x" }] }) { ${RESULT} } }`, (id: string) => ({ id })],
    ] as const) {
      expect(await asBob(query, vars(tgt.chat))).toBe(await asBob(query, vars(missing)));
    }
    // node(id) with another type's id over a real chat's uuid: still just null.
    for (const type of ['ChatMessage', 'ChatModelConfig', 'User', 'ChatQueuedMessage']) {
      const res = await server.gql<{ node: unknown }>('query($id: ID!) { node(id: $id) { id } }', { id: encodeGlobalID(type, tgt.chatId) }, tokens.other);
      expect(res.data?.node ?? null).toBeNull();
      expect(JSON.stringify(res)).not.toContain('target of');
    }
  });

  it('model-only content is never readable by a user token: fields, node(id), summaries, event payloads', async () => {
    const chatId = await insertChat(t.db, alice.user.id, { status: 'running', title: 'visibility' });
    await t.db.none(`UPDATE chats SET worker_id = 'matrix-worker' WHERE id = $1`, [chatId]);
    await insertMessage(t.db, chatId, { role: 'user', text: 'question' });
    const hidden = await insertMessage(t.db, chatId, { role: 'assistant', text: 'SECRET-MODEL-ONLY', visibility: 'model' });
    const chat = encodeGlobalID('Chat', chatId);
    const ws = server.ws({ authToken: tokens.owner });
    const events: unknown[] = [];
    const stop = [
      ws.subscribe({ query: 'subscription($id: ID!) { chatEvents(chatId: $id) { kind message { parts { ... on ChatTextPart { text } } } chat { lastTurnSummary hasUnread } } }', variables: { id: chat } }, { next: (e) => void events.push(e), error: () => undefined, complete: () => undefined }),
      ws.subscribe({ query: 'subscription { chatWatch { kind chat { lastTurnSummary } } }' }, { next: (e) => void events.push(e), error: () => undefined, complete: () => undefined }),
    ];
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    // The worker appends another model-only message and finishes the run: events flow.
    const append = await server.gql<{ appendChatMessages: { __typename: string } }>(
      `mutation($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { ${RESULT} } }`,
      { input: { chatId: chat, workerId: 'matrix-worker', messages: [{ role: 'ASSISTANT', visibility: 'MODEL', parts: [{ type: 'text', text: 'SECRET-MODEL-TWO' }] }] } },
      tokens.worker,
    );
    expect(append.data?.appendChatMessages.__typename).toBe('AppendChatMessagesPayload');
    await server.gql(`mutation($input: FinishChatRunInput!) { finishChatRun(input: $input) { ${RESULT} } }`, { input: { chatId: chat, workerId: 'matrix-worker', status: 'WAITING' } }, tokens.worker);
    await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const reads = await Promise.all([
      server.gql('query($id: ID!) { chat(id: $id) { lastTurnSummary hasUnread messages(last: 100) { nodes { parts { ... on ChatTextPart { text } } } } } }', { id: chat }, tokens.owner),
      server.gql('query($id: ID!) { node(id: $id) { ... on ChatMessage { parts { ... on ChatTextPart { text } } } } }', { id: encodeGlobalID('ChatMessage', hidden) }, tokens.owner),
      server.gql('{ chats { nodes { lastTurnSummary hasUnread } } }', {}, tokens.owner),
    ]);
    for (const s of stop) s();
    const seen = JSON.stringify({ reads, events });
    expect(seen).toContain('question');
    expect(seen).not.toContain('SECRET');
    // The worker (which runs the model) does see it.
    const asWorker = await server.gql('query($id: ID!) { chat(id: $id) { promptMessages { parts { ... on ChatTextPart { text } } } } }', { id: chat }, tokens.worker);
    expect(JSON.stringify(asWorker)).toContain('SECRET-MODEL-ONLY');
  });
});
