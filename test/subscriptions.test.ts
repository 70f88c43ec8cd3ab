import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { revokeToken } from '../src/auth/admin.js';
import { loadConfig } from '../src/config.js';
import { createDb, onQuery } from '../src/db/index.js';
import { pruneEvents } from '../src/events/retention.js';
import { buildApp } from '../src/server.js';
import { MODEL, insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { quietLogger } from './helpers/events.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collect, end, finished, received, subscribed } from './helpers/subscriptions.js';

const WATCH = `subscription ($after: String, $allUsers: Boolean) {
  chatWatch(after: $after, allUsers: $allUsers) { cursor kind occurredAt chat { id title status archived lastModelConfig { displayName } owner { username } } }
}`;
const EVENTS = `subscription ($chatId: ID!, $after: String) {
  chatEvents(chatId: $chatId, after: $after) {
    cursor kind
    chat { id title status archived }
    message { databaseId role parts { ... on ChatTextPart { text } } }
    queuedMessages { parts { ... on ChatTextPart { text } } modelConfig { displayName } }
  }
}`;
const CONFIGS = `subscription ($after: String) { modelConfigChanged(after: $after) { cursor kind modelConfig { id displayName isDefault deleted } } }`;

interface WatchEvent { cursor: string; kind: string; chat: { id: string; title: string; status: string; archived: boolean; owner: { username: string } } }
interface StreamEvent {
  cursor: string;
  kind: string;
  chat: { id: string; title: string; status: string; archived: boolean };
  message: { databaseId: string; role: string; parts: Array<{ text?: string }> } | null;
  queuedMessages: Array<{ parts: Array<{ text?: string }>; modelConfig: { displayName: string } | null }> | null;
}

let tdb: TestDatabase;
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;

const gid = (type: string, id: string) => encodeGlobalID(type, id);
const raw = (globalId: string) => decodeGlobalID(globalId).id;
const watchKinds = (events: Array<{ chatWatch: WatchEvent }>) => events.map((e) => e.chatWatch.kind);
const streamKinds = (events: Array<{ chatEvents: StreamEvent }>) => events.map((e) => e.chatEvents.kind);

async function mutate(token: string, query: string, input: Record<string, unknown>): Promise<Record<string, Record<string, unknown>>> {
  const res = await server.gql<Record<string, Record<string, unknown>>>(query, { input }, token);
  expect(res.errors).toBeUndefined();
  const payload = Object.values(res.data!)[0]!;
  expect(payload.__typename).not.toMatch(/Error$/);
  return res.data!;
}

async function createChat(user: TestUser, title = 'chat'): Promise<string> {
  const data = await mutate(user.token, `mutation ($input: CreateChatInput!) { createChat(input: $input) { __typename ... on ChatMessagePayload { chat { id } } } }`, {
    title,
    content: [{ type: 'TEXT', text: 'first' }],
  });
  return (data.createChat!.chat as { id: string }).id;
}

const send = (user: TestUser, chatId: string, text: string, modelConfigId?: string) =>
  mutate(user.token, `mutation ($input: SendChatMessageInput!) { sendChatMessage(input: $input) { __typename } }`, {
    chatId,
    content: [{ type: 'TEXT', text }],
    ...(modelConfigId ? { modelConfigId: gid('ChatModelConfig', modelConfigId) } : {}),
  });
const update = (user: TestUser, chatId: string, fields: Record<string, unknown>) =>
  mutate(user.token, `mutation ($input: UpdateChatInput!) { updateChat(input: $input) { __typename } }`, { chatId, ...fields });
const simple = (name: string, inputType: string) => (user: TestUser, chatId: string) =>
  mutate(user.token, `mutation ($input: ${inputType}!) { ${name}(input: $input) { __typename } }`, { chatId });
const interrupt = simple('interruptChat', 'InterruptChatInput');
const archive = simple('archiveChat', 'ArchiveChatInput');
const unarchive = simple('unarchiveChat', 'UnarchiveChatInput');
const markRead = simple('markChatRead', 'MarkChatReadInput');

function client(user: TestUser | null): Client {
  return server.ws(user ? { authToken: user.token } : {});
}

beforeAll(async () => {
  tdb = await createTestDatabase();
  await insertModels(tdb.db);
  [alice, bob, admin] = await Promise.all([makeUser(tdb.db), makeUser(tdb.db), makeUser(tdb.db, { admin: true })]);
  server = await startTestServer(tdb.db, { AUTH_CACHE_MS: '200' });
});

afterAll(async () => {
  await server?.stop();
  await tdb?.close();
});

describe('chatWatch', () => {
  it('emits each kind exactly when its data changes, and nothing for other writes', async () => {
    const sub = await subscribed<{ chatWatch: WatchEvent }>(server.app, client(alice), WATCH);
    const chat = await createChat(alice, 'first');                 // CREATED
    const id = raw(chat);
    await update(alice, chat, { title: 'renamed' });               // TITLE_CHANGE
    await update(alice, chat, { labels: { team: 'a' }, pinOrder: 2 }); // nothing
    await interrupt(alice, chat);                                   // STATUS_CHANGE (waiting)
    await send(alice, chat, 'again', MODEL.gpt);                    // MODEL_CONFIG_CHANGE, STATUS_CHANGE (pending)
    await send(alice, chat, 'same model');                          // queued: QUEUE_CHANGE (no model change)
    await markRead(alice, chat);                                    // nothing
    await tdb.db.none('UPDATE chats SET heartbeat_at = now() WHERE id = $1', [id]);     // nothing
    await tdb.db.none("UPDATE chats SET status = 'requires_action' WHERE id = $1", [id]); // ACTION_REQUIRED only
    await tdb.db.none("INSERT INTO chat_diff_statuses (chat_id, url, pull_request_state) VALUES ($1, 'https://x/pr/1', 'open')", [id]); // DIFF_STATUS_CHANGE
    await tdb.db.none('UPDATE chat_diff_statuses SET refreshed_at = now() WHERE chat_id = $1', [id]); // nothing
    await archive(alice, chat);                                     // DELETED
    await unarchive(alice, chat);                                   // CREATED: the positive control closing the window

    const events = await received(sub, 10);
    expect(watchKinds(events)).toEqual([
      'CREATED', 'TITLE_CHANGE', 'STATUS_CHANGE', 'MODEL_CONFIG_CHANGE', 'STATUS_CHANGE', 'QUEUE_CHANGE',
      'ACTION_REQUIRED', 'DIFF_STATUS_CHANGE', 'DELETED', 'CREATED',
    ]);
    expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
    expect(new Set(events.map((e) => e.chatWatch.chat.id))).toEqual(new Set([chat]));
    expect(events.at(-1)!.chatWatch.chat).toMatchObject({ title: 'renamed', archived: false, status: 'REQUIRES_ACTION', owner: { username: alice.user.username } });
    // Cursors are distinct and strictly ordered as delivered.
    expect(new Set(events.map((e) => e.chatWatch.cursor)).size).toBe(events.length);
    await end(server.app, sub);
  });

  it('user B never receives user A\'s events; an admin does only with allUsers', async () => {
    const bobSub = await subscribed<{ chatWatch: WatchEvent }>(server.app, client(bob), WATCH);
    const adminOwn = await subscribed<{ chatWatch: WatchEvent }>(server.app, client(admin), WATCH);
    const adminAll = await subscribed<{ chatWatch: WatchEvent }>(server.app, client(admin), WATCH, { allUsers: true });
    const aliceChat = await createChat(alice, 'alice only');
    await update(alice, aliceChat, { title: 'alice renamed' });
    const bobChat = await createChat(bob, 'bob control'); // positive control for bob and both admin streams

    const all = await received(adminAll, 3);
    expect(all.map((e) => [e.chatWatch.kind, e.chatWatch.chat.id])).toEqual([['CREATED', aliceChat], ['TITLE_CHANGE', aliceChat], ['CREATED', bobChat]]);
    const bobs = await received(bobSub, 1);
    await received(adminOwn, 0);
    // bob's own chat arrived after alice's two events: had they leaked, they would be first.
    expect(bobs.map((e) => e.chatWatch.chat.id)).toEqual([bobChat]);
    expect(adminOwn.results).toEqual([]);
    const adminChat = await createChat(admin, 'admin control');
    await received(adminOwn, 1);
    expect(adminOwn.data.map((e) => e.chatWatch.chat.id)).toEqual([adminChat]);
    await end(server.app, bobSub, adminOwn, adminAll);
  });

  it('allUsers without admin is FORBIDDEN; a malformed cursor is BAD_USER_INPUT', async () => {
    const forbidden = collect(client(alice), WATCH, { allUsers: true });
    const malformed = collect(client(alice), WATCH, { after: 'not-a-cursor' });
    for (const [sub, code] of [[forbidden, 'FORBIDDEN'], [malformed, 'BAD_USER_INPUT']] as const) {
      const results = await finished(sub);
      expect(results).toHaveLength(1);
      expect(results[0]!.errors?.[0]?.extensions).toMatchObject({ code });
    }
    expect(malformed.results[0]!.errors![0]!.message).toMatch(/Invalid event cursor/);
  });
});

describe('chatEvents', () => {
  it('emits MESSAGE, STATUS, QUEUE_UPDATE, TITLE, MODEL_CONFIG, DIFF_STATUS, MESSAGE_DELETED and ARCHIVED with their data', async () => {
    const chat = await createChat(alice, 'stream');
    const id = raw(chat);
    const sub = await subscribed<{ chatEvents: StreamEvent }>(server.app, client(alice), EVENTS, { chatId: chat });
    const other = await createChat(alice, 'other chat');             // nothing here: another chat
    await send(alice, chat, 'queued one', MODEL.gpt);                  // pending → QUEUE_UPDATE
    // Rows are loaded when an event is delivered: let this one arrive before the queue changes again.
    await received(sub, 1);
    await update(alice, chat, { title: 'streamed', pinOrder: 1 });     // TITLE
    await tdb.db.none('DELETE FROM chat_queued_messages WHERE chat_id = $1', [id]); // QUEUE_UPDATE (empty)
    await interrupt(alice, chat);                                      // STATUS
    await send(alice, chat, 'second', MODEL.gpt);                      // MESSAGE, MODEL_CONFIG, STATUS
    const msg = await tdb.db.one<{ id: string }>("SELECT id::text FROM chat_messages WHERE chat_id = $1 AND content->0->>'text' = 'second'", [id]);
    await tdb.db.none("UPDATE chat_diff_statuses SET url = 'x' WHERE chat_id = $1", [id]); // no row: nothing
    await tdb.db.none("INSERT INTO chat_diff_statuses (chat_id, pull_request_state) VALUES ($1, 'merged')", [id]); // DIFF_STATUS
    await tdb.db.none("UPDATE chats SET status = 'waiting' WHERE id = $1", [id]); // STATUS
    await mutate(alice.token, `mutation ($input: EditChatMessageInput!) { editChatMessage(input: $input) { __typename } }`, {
      chatId: chat,
      messageId: gid('ChatMessage', msg.id),
      content: [{ type: 'TEXT', text: 'edited' }],
    });                                                                // MESSAGE_DELETED, MESSAGE, STATUS (pending)
    await tdb.db.none("INSERT INTO chat_messages (chat_id, role, visibility, content, content_version) VALUES ($1, 'system', 'model', '[]', 1)", [id]); // model-only: not for users
    await archive(alice, chat);                                        // STATUS (waiting), ARCHIVED

    const events = await received(sub, 14);
    expect(streamKinds(events)).toEqual([
      'QUEUE_UPDATE', 'TITLE', 'QUEUE_UPDATE', 'STATUS', 'MESSAGE', 'MODEL_CONFIG', 'STATUS', 'DIFF_STATUS', 'STATUS',
      'MESSAGE_DELETED', 'MESSAGE', 'STATUS', 'STATUS', 'ARCHIVED',
    ]);
    const e = events.map((x) => x.chatEvents);
    expect(e.every((x) => x.chat.id === chat)).toBe(true);
    expect(other).not.toBe(chat);
    expect(e[0]!.queuedMessages).toEqual([{ parts: [{ text: 'queued one' }], modelConfig: { displayName: 'GPT' } }]);
    expect(e[2]!.queuedMessages).toEqual([]);
    expect(e[4]!.message).toMatchObject({ databaseId: msg.id, role: 'USER', parts: [{ text: 'second' }] });
    expect(e[9]!.message).toMatchObject({ databaseId: msg.id });
    expect(e[10]!.message!.parts).toEqual([{ text: 'edited' }]);
    expect(e.filter((x) => x.kind !== 'MESSAGE' && x.kind !== 'MESSAGE_DELETED').every((x) => x.message === null)).toBe(true);
    expect(e.at(-1)!.chat.archived).toBe(true);
    await end(server.app, sub);
  });

  it('a chat the viewer cannot read is NOT_FOUND before subscribing', async () => {
    const chat = await createChat(alice, 'private');
    const before = server.app.liveSubscriptions;
    const sub = collect(client(bob), EVENTS, { chatId: chat });
    const results = await finished(sub);
    expect(results[0]!.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(server.app.liveSubscriptions).toBe(before);
  });

  it('a client that disconnects and resubscribes with after gets exactly what it missed', async () => {
    const chat = await createChat(alice, 'resume');
    const id = raw(chat);
    const first = client(alice);
    const sub = await subscribed<{ chatEvents: StreamEvent }>(server.app, first, EVENTS, { chatId: chat });
    await send(alice, chat, 'm1');
    await send(alice, chat, 'm2');
    const seen = await received(sub, 2);
    const last = seen.at(-1)!.chatEvents.cursor;
    const before = server.app.liveSubscriptions;
    await first.dispose(); // disconnect
    await expect.poll(() => server.app.liveSubscriptions).toBe(before - 1);

    await tdb.db.none("INSERT INTO chat_messages (chat_id, role, content, content_version) VALUES ($1, 'assistant', '[{\"type\":\"text\",\"text\":\"m3\"}]', 1)", [id]);
    await update(alice, chat, { title: 'while away' });
    const again = await subscribed<{ chatEvents: StreamEvent }>(server.app, client(alice), EVENTS, { chatId: chat, after: last });
    await tdb.db.none("INSERT INTO chat_messages (chat_id, role, content, content_version) VALUES ($1, 'assistant', '[{\"type\":\"text\",\"text\":\"m4\"}]', 1)", [id]);
    const events = (await received(again, 3)).map((x) => x.chatEvents);
    expect(events.map((x) => [x.kind, x.message?.parts[0]?.text ?? x.chat.title])).toEqual([
      ['MESSAGE', 'm3'], ['TITLE', 'while away'], ['MESSAGE', 'm4'],
    ]);
    // The replayed cursors continue the first subscription's sequence.
    expect(new Set([...seen.map((x) => x.chatEvents.cursor), ...events.map((x) => x.cursor)]).size).toBe(5);
    await end(server.app, again);
  });
});

describe('fan-out', () => {
  it('loads each event once per process for all subscribers, and resolves every event with fresh loaders', async () => {
    const subs = [];
    for (let i = 0; i < 5; i++) subs.push(await subscribed<{ chatWatch: WatchEvent & { chat: { lastModelConfig: { displayName: string } } } }>(server.app, client(alice), WATCH));
    const chat = await createChat(alice, 'fan-out');
    await Promise.all(subs.map((sub) => received(sub, 1)));

    const statements: string[] = [];
    const off = onQuery((q) => statements.push(q));
    try {
      await tdb.db.none("UPDATE chat_model_configs SET display_name = 'Claude renamed' WHERE id = $1", [MODEL.priced]);
      await update(alice, chat, { title: 'fan-out 2' });
      await Promise.all(subs.map((sub) => received(sub, 2)));
    } finally {
      off();
    }
    // One chats read for the batch, shared by five subscribers (the mutation's own reads aside).
    expect(statements.filter((q) => /FROM chats c WHERE c\.id = ANY/.test(q))).toHaveLength(1);
    // The second event sees the renamed config: no DataLoader cache survives from the first event.
    for (const sub of subs) {
      expect(sub.data.map((d) => d.chatWatch.chat.lastModelConfig.displayName)).toEqual(['Claude', 'Claude renamed']);
    }
    await tdb.db.none("UPDATE chat_model_configs SET display_name = 'Claude' WHERE id = $1", [MODEL.priced]);
    await end(server.app, ...subs);
  });
});

describe('modelConfigChanged', () => {
  it('emits CREATED, UPDATED, DEFAULT_CHANGED and DELETED for any authenticated viewer', async () => {
    const sub = await subscribed<{ modelConfigChanged: { kind: string; modelConfig: { id: string; displayName: string; isDefault: boolean; deleted: boolean } } }>(server.app, client(bob), CONFIGS);
    const { id } = await tdb.db.one<{ id: string }>("INSERT INTO chat_model_configs (provider, model, display_name, context_limit) VALUES ('t', 'm', 'New', 1000) RETURNING id");
    await tdb.db.none("UPDATE chat_model_configs SET display_name = 'Renamed' WHERE id = $1", [id]);
    await tdb.db.tx(async (t) => {
      await t.none('UPDATE chat_model_configs SET is_default = false WHERE id = $1', [MODEL.priced]);
      await t.none('UPDATE chat_model_configs SET is_default = true WHERE id = $1', [id]);
    });
    await createChat(alice, 'not a config event'); // chat events are not on this stream
    await tdb.db.none('UPDATE chat_model_configs SET deleted = true, deleted_at = now(), is_default = false WHERE id = $1', [id]);
    await tdb.db.none('UPDATE chat_model_configs SET is_default = true WHERE id = $1', [MODEL.priced]);

    const events = (await received(sub, 6)).map((e) => e.modelConfigChanged);
    expect(events.map((e) => [e.kind, raw(e.modelConfig.id) === id ? 'new' : 'priced'])).toEqual([
      ['CREATED', 'new'], ['UPDATED', 'new'], ['UPDATED', 'priced'], ['DEFAULT_CHANGED', 'new'], ['DELETED', 'new'], ['DEFAULT_CHANGED', 'priced'],
    ]);
    expect(events[4]!.modelConfig).toMatchObject({ displayName: 'Renamed', deleted: true });
    await end(server.app, sub);
  });
});

describe('connections and limits', () => {
  it('100 clients that connect, subscribe and disconnect leave no live subscription', async () => {
    expect(server.app.liveSubscriptions).toBe(0);
    const clients = Array.from({ length: 100 }, () => client(alice));
    const subs = clients.map((c, i) => collect(c, i % 2 === 0 ? WATCH : CONFIGS));
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 20_000 }).toBe(100);
    // Identical operations of one viewer share a hub subscription: two distinct operations here.
    expect(server.app.eventStream.subscriberCount).toBe(2);
    // Half complete their operation (graphql-ws complete message), half just drop the socket.
    subs.slice(0, 50).forEach((s) => s.unsubscribe());
    await Promise.all(clients.slice(50).map((c) => c.dispose()));
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 20_000 }).toBe(0);
    expect(server.app.eventStream.subscriberCount).toBe(0);
    await Promise.all(clients.slice(0, 50).map((c) => c.dispose()));
  });

  it('a bad or missing token closes the socket with 4403; a revoked token fails the next subscribe', async () => {
    const closeCode = (params: Record<string, unknown>) =>
      new Promise<number>((resolve) => {
        const bad = server.ws(params);
        bad.on('closed', (event) => resolve((event as { code: number }).code));
        bad.subscribe({ query: WATCH }, { next: () => undefined, error: () => undefined, complete: () => undefined });
      });
    expect(await closeCode({ authToken: 'cg_nope' })).toBe(4403);
    expect(await closeCode({})).toBe(4403);

    const carol = await makeUser(tdb.db);
    const c = client(carol);
    const live = await subscribed<{ chatWatch: WatchEvent }>(server.app, c, WATCH);
    const { id: tokenId } = await tdb.db.one<{ id: string }>('SELECT id FROM api_tokens WHERE user_id = $1', [carol.user.id]);
    await revokeToken(tdb.db, tokenId);
    await new Promise((r) => setTimeout(r, server.config.authCacheMs + 50)); // the token cache's stated delay
    const refused = collect(c, WATCH);
    const results = await finished(refused);
    expect(results.length + (refused.error ? 1 : 0)).toBeGreaterThan(0);
    const errors = (refused.error as Array<{ extensions?: { code?: string } }> | undefined) ?? results[0]!.errors!;
    expect(errors[0]!.extensions?.code).toBe('UNAUTHENTICATED');
    await end(server.app, live);
  });

  it('caps subscriptions per connection', async () => {
    expect(server.app.liveSubscriptions).toBe(0);
    const max = server.config.maxSubscriptionsPerConnection;
    const c = client(alice);
    const subs = Array.from({ length: max }, () => collect(c, CONFIGS));
    await expect.poll(() => server.app.liveSubscriptions, { timeout: 10_000 }).toBe(max);
    const over = collect(c, CONFIGS);
    await expect.poll(() => over.error !== undefined, { timeout: 10_000 }).toBe(true);
    expect((over.error as Array<{ extensions?: { code?: string } }>)[0]!.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    subs[0]!.unsubscribe(); // a freed slot can be used again
    await expect.poll(() => server.app.liveSubscriptions).toBe(max - 1);
    const again = await subscribed(server.app, c, CONFIGS);
    expect(again.error).toBeUndefined();
    expect(server.app.liveSubscriptions).toBe(max);
    await c.dispose();
    await expect.poll(() => server.app.liveSubscriptions).toBe(0);
  });

  it('broken protocol messages close the socket with 4400/4401 and the server keeps serving', async () => {
    const closeCode = (messages: string[]) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        socket.on('open', () => messages.forEach((m) => socket.send(m)));
        socket.on('close', (code) => resolve(code));
        socket.on('error', reject);
      });
    const init = JSON.stringify({ type: 'connection_init', payload: { authToken: alice.token } });
    expect(await closeCode(['{not json'])).toBe(4400);
    expect(await closeCode([init, JSON.stringify({ type: 'bogus' })])).toBe(4400);
    expect(await closeCode([JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ viewer { id } }' } })])).toBe(4401);
    // Still serving.
    const sub = await subscribed<{ chatWatch: WatchEvent }>(server.app, client(alice), WATCH);
    await createChat(alice, 'after garbage');
    expect(watchKinds(await received(sub, 1))).toEqual(['CREATED']);
    await end(server.app, sub);
    const ready = await fetch(server.url.replace('/graphql', '/ready'));
    expect(ready.status).toBe(200);
  });

  it('an expired cursor is CURSOR_EXPIRED, telling the client to refetch', async () => {
    const chat = await createChat(alice, 'to be pruned');
    const sub = await subscribed<{ chatEvents: StreamEvent }>(server.app, client(alice), EVENTS, { chatId: chat });
    await update(alice, chat, { title: 'pruned away' });
    const [first] = await received(sub, 1);
    await end(server.app, sub);
    await update(alice, chat, { title: 'after cursor' });
    await pruneEvents(tdb.db, 1, { now: new Date(Date.now() + 3 * 86_400_000) });
    const expired = collect(client(alice), EVENTS, { chatId: chat, after: first!.chatEvents.cursor });
    const results = await finished(expired, 30_000);
    expect(results[0]!.errors?.[0]).toMatchObject({ extensions: { code: 'CURSOR_EXPIRED' } });
    expect(results[0]!.errors![0]!.message).toMatch(/refetch/);
  });
});

describe('SSE', () => {
  /** Reads `event: next` payloads from a text/event-stream response until `n` arrived or it ends. */
  async function readEvents(res: Response, n: number): Promise<Array<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }>> {
    const out: Array<{ data?: unknown; errors?: Array<{ extensions?: { code?: string } }> }> = [];
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    while (out.length < n) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('\n');
        if (/^event: next/m.test(block) && data) out.push(JSON.parse(data));
      }
    }
    await reader.cancel().catch(() => undefined);
    return out;
  }

  const sse = (token: string | null, signal?: AbortSignal) =>
    fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: WATCH }),
      signal,
    });

  it('streams chatWatch with a bearer token; ends the hub subscription when the client goes away', async () => {
    const before = server.app.liveSubscriptions;
    const abort = new AbortController();
    const res = await sse(alice.token, abort.signal);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    await expect.poll(() => server.app.liveSubscriptions).toBe(before + 1);
    const reading = readEvents(res, 1);
    const chat = await createChat(alice, 'over sse');
    const [event] = await reading;
    expect(event!.data).toMatchObject({ chatWatch: { kind: 'CREATED', chat: { id: chat, title: 'over sse' } } });
    abort.abort();
    await expect.poll(() => server.app.liveSubscriptions).toBe(before);
  });

  it('without a token answers UNAUTHENTICATED', async () => {
    const res = await sse(null);
    const body = await res.text();
    expect(body).toMatch(/UNAUTHENTICATED/);
  });
});

describe('lifecycle', () => {
  it('start does not wait forever for an unreachable database; /ready says 503 meanwhile; stop releases everything', async () => {
    const db = createDb('postgres://nobody@127.0.0.1:1/none', 1);
    const config = loadConfig({ ...process.env, PORT: '0' });
    const app = buildApp({ db, config, eventStream: { connectWaitMs: 200, logger: quietLogger, listener: { reconnectMinMs: 50, reconnectMaxMs: 200 } } });
    try {
      const url = await app.start(0, '127.0.0.1');
      expect(app.eventStream.isHealthy()).toBe(false);
      const ready = await fetch(url.replace('/graphql', '/ready'));
      expect(ready.status).toBe(503);
    } finally {
      await app.stop();
      await db.$pool.end();
    }
    expect(app.eventStream.isHealthy()).toBe(false);
  });

  it('/ready checks the LISTEN connection of a running app', async () => {
    expect(server.app.eventStream.isHealthy()).toBe(true);
    expect(server.app.eventStream.listener.backendPid).toBeTypeOf('number');
    const res = await fetch(server.url.replace('/graphql', '/ready'));
    expect(await res.json()).toEqual({ status: 'ready' });
  });
});
