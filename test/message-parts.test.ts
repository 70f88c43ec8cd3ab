import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { insertChat, insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startGateway, type Gateway } from './helpers/gateway.js';
import { startTestServer, wsQuery, type TestServer } from './helpers/server.js';
import { collect, received, subscribed, type Collected } from './helpers/subscriptions.js';

const EVENTS = `subscription ($chatId: ID!) { chatEvents(chatId: $chatId) {
  kind attempt seq cursor message { databaseId role } parts { type text toolCallId toolName argsDelta }
} }`;
const PUBLISH = `mutation ($input: PublishChatMessagePartsInput!) { publishChatMessageParts(input: $input) {
  __typename ... on PublishChatMessagePartsPayload { attempt seq } ... on Error { message } ... on ValidationError { field } ... on RateLimitedError { retryAfterMs }
} }`;
const APPEND = `mutation ($input: AppendChatMessagesInput!) { appendChatMessages(input: $input) { __typename ... on AppendChatMessagesPayload { messages { databaseId } } } }`;
const FINISH = `mutation ($input: FinishChatRunInput!) { finishChatRun(input: $input) { __typename ... on FinishChatRunPayload { finished } } }`;

interface StreamEvent {
  chatEvents: { kind: string; attempt: number | null; seq: number | null; cursor: string; message: { databaseId: string; role: string } | null; parts: Array<Record<string, unknown>> | null };
}

const gid = (id: string) => encodeGlobalID('Chat', id);
const text = (s: string) => [{ type: 'text', text: s }];
const partSeqs = (sub: Collected<StreamEvent>) => sub.data.filter((d) => d.chatEvents.kind === 'MESSAGE_PART').map((d) => `${d.chatEvents.attempt}:${d.chatEvents.seq}`);
const kinds = (sub: Collected<StreamEvent>) =>
  sub.data.filter((d) => d.chatEvents.kind !== 'TITLE').map((d) => (d.chatEvents.kind === 'MESSAGE_PART' ? `P${d.chatEvents.attempt}:${d.chatEvents.seq}` : d.chatEvents.kind));
const range = (n: number, attempt = 1) => Array.from({ length: n }, (_, i) => `${attempt}:${i}`);

describe('streamed message parts (MESSAGE_PART)', () => {
  let t: TestDatabase;
  let local: TestServer;
  let other: Gateway;
  let alice: TestUser;
  let worker: TestUser;
  let workerWs: Client;

  beforeAll(async () => {
    t = await createTestDatabase({ poolSize: 12 });
    await insertModels(t.db);
    alice = await makeUser(t.db);
    worker = await makeUser(t.db, { scopes: ['worker'] });
    const env = { MESSAGE_PARTS_PER_SECOND: '50', MESSAGE_PARTS_BURST: '60' };
    [local, other] = await Promise.all([startTestServer(t.db, env), startGateway(t.url, env)]);
    workerWs = local.ws({ authToken: worker.token });
  });
  afterAll(async () => {
    await other?.stop();
    await local?.stop();
    await t?.close();
  });

  async function runningChat(workerId = 'w1'): Promise<string> {
    const id = await insertChat(t.db, alice.user.id, { status: 'running' });
    await t.db.none('UPDATE chats SET worker_id = $2, started_at = now(), heartbeat_at = now() WHERE id = $1', [id, workerId]);
    return id;
  }
  /** Publishes over the worker's graphql-ws connection (no HTTP request per batch). */
  async function publish(chatId: string, attempt: number, seq: number, parts: unknown = text(`${attempt}.${seq} `), workerId = 'w1', client = workerWs) {
    const r = await wsQuery<{ publishChatMessageParts: Record<string, unknown> }>(client, PUBLISH, { input: { chatId: gid(chatId), workerId, attempt, seq, parts } });
    expect(r.errors).toBeUndefined();
    return r.data!.publishChatMessageParts;
  }
  /** A subscriber on the other process, registered for sure: it has seen a stored event written after it subscribed. */
  async function otherSubscriber(chatId: string): Promise<Collected<StreamEvent>> {
    const sub = collect<StreamEvent>(other.ws(alice.token), EVENTS, { chatId: gid(chatId) });
    for (let i = 0; sub.data.length === 0; i++) {
      await t.db.none('UPDATE chats SET title = $2 WHERE id = $1', [chatId, `ready ${i}`]);
      await new Promise((r) => setTimeout(r, 100));
    }
    sub.data.length = 0;
    sub.results.length = 0;
    return sub;
  }
  const writes = async (chatId: string) => ({
    events: (await t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM chat_events')).n,
    messages: (await t.db.one<{ n: number }>('SELECT count(*)::int AS n FROM chat_messages')).n,
    chat: await t.db.one('SELECT xmin::text AS x, * FROM chats WHERE id = $1', [chatId]),
  });

  it('batches published over graphql-ws reach subscribers on both processes in seq order (one above 8000 bytes, chunked); nothing is written', async () => {
    const chat = await runningChat();
    const here = await subscribed<StreamEvent>(local.app, local.ws({ authToken: alice.token }), EVENTS, { chatId: gid(chat) });
    const there = await otherSubscriber(chat);
    const before = await writes(chat);
    const big = [{ type: 'text', text: 'é✓ '.repeat(4000) }, { type: 'tool-call', toolCallId: 'c1', toolName: 'ls', argsDelta: '{"pa' }];
    for (let seq = 0; seq < 20; seq++) {
      const r = await publish(chat, 1, seq, seq === 7 ? big : text(`w${seq} `));
      expect(r).toEqual({ __typename: 'PublishChatMessagePartsPayload', attempt: 1, seq });
    }
    for (const sub of [here, there]) {
      await expect.poll(() => partSeqs(sub), { timeout: 10_000 }).toEqual(range(20));
      const seventh = sub.data.find((d) => d.chatEvents.seq === 7)!.chatEvents;
      expect(seventh.parts).toEqual([
        { type: 'TEXT', text: 'é✓ '.repeat(4000), toolCallId: null, toolName: null, argsDelta: null },
        { type: 'TOOL_CALL', text: null, toolCallId: 'c1', toolName: 'ls', argsDelta: '{"pa' },
      ]);
      expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
    }
    expect(Buffer.byteLength(JSON.stringify(big))).toBeGreaterThan(8000);
    expect(await writes(chat)).toEqual(before);
    here.unsubscribe();
    there.unsubscribe();
  });

  it('a subscriber joining mid-generation, on either process, gets the attempt so far and then the live batches: no gap, no duplicate', async () => {
    const chat = await runningChat();
    const watcher = await otherSubscriber(chat); // proves the other process has the first batches
    // An identical subscription of the same viewer already runs here: a joiner must still get its own snapshot.
    const early = await subscribed<StreamEvent>(local.app, local.ws({ authToken: alice.token }), EVENTS, { chatId: gid(chat) });
    for (let seq = 0; seq < 6; seq++) await publish(chat, 1, seq);
    await expect.poll(() => partSeqs(watcher), { timeout: 10_000 }).toEqual(range(6));
    await expect.poll(() => partSeqs(early), { timeout: 10_000 }).toEqual(range(6));
    const lateHere = collect<StreamEvent>(local.ws({ authToken: alice.token }), EVENTS, { chatId: gid(chat) });
    const lateThere = collect<StreamEvent>(other.ws(alice.token), EVENTS, { chatId: gid(chat) });
    for (let seq = 6; seq < 12; seq++) await publish(chat, 1, seq);
    for (const sub of [lateHere, lateThere, watcher, early]) await expect.poll(() => partSeqs(sub), { timeout: 10_000 }).toEqual(range(12));
    for (const sub of [lateHere, lateThere, watcher, early]) sub.unsubscribe();
  });

  it('the final MESSAGE supersedes the parts (parts, MESSAGE, then the next attempt); a run ending without a message gets PREVIEW_RESET', async () => {
    const chat = await runningChat();
    const here = await subscribed<StreamEvent>(local.app, local.ws({ authToken: alice.token }), EVENTS, { chatId: gid(chat) });
    const there = await otherSubscriber(chat);
    for (let seq = 0; seq < 3; seq++) await publish(chat, 1, seq);
    await expect.poll(() => partSeqs(here)).toEqual(range(3));
    const appended = await wsQuery<{ appendChatMessages: { messages: Array<{ databaseId: string }> } }>(workerWs, APPEND, {
      input: { chatId: gid(chat), workerId: 'w1', messages: [{ role: 'ASSISTANT', parts: text('1.0 1.1 1.2') }] },
    });
    const messageId = appended.data!.appendChatMessages.messages[0]!.databaseId;
    for (let seq = 0; seq < 2; seq++) await publish(chat, 2, seq);
    await wsQuery(workerWs, FINISH, { input: { chatId: gid(chat), workerId: 'w1', status: 'ERROR', lastError: 'model crashed' } });
    for (const sub of [here, there]) {
      await expect.poll(() => kinds(sub), { timeout: 10_000 }).toContain('STATUS');
      await expect.poll(() => kinds(sub).includes('PREVIEW_RESET'), { timeout: 10_000 }).toBe(true);
      const seen = kinds(sub);
      expect(seen.slice(0, 6)).toEqual(['P1:0', 'P1:1', 'P1:2', 'MESSAGE', 'P2:0', 'P2:1']);
      expect([...seen.slice(6)].sort()).toEqual(['PREVIEW_RESET', 'STATUS']);
      expect(sub.data.find((d) => d.chatEvents.kind === 'MESSAGE')!.chatEvents.message).toEqual({ databaseId: messageId, role: 'ASSISTANT' });
      expect(sub.data.find((d) => d.chatEvents.kind === 'PREVIEW_RESET')!.chatEvents.attempt).toBe(2);
    }
    // A part event carries the cursor of the last stored event before it: resuming from it replays the MESSAGE and STATUS only.
    const p2 = here.data.find((d) => d.chatEvents.kind === 'MESSAGE_PART' && d.chatEvents.attempt === 2)!.chatEvents;
    expect(p2.cursor).toBe(here.data.find((d) => d.chatEvents.kind === 'MESSAGE')!.chatEvents.cursor);
    here.unsubscribe();
    there.unsubscribe();
  });

  it('only the owning worker may publish; bad input is a ValidationError; nothing is sent', async () => {
    const chat = await runningChat('w1');
    const idle = await insertChat(t.db, alice.user.id, { status: 'waiting' });
    const here = await subscribed<StreamEvent>(local.app, local.ws({ authToken: alice.token }), EVENTS, { chatId: gid(chat) });
    const cases: Array<[() => Promise<Record<string, unknown>>, string, string?]> = [
      [() => publish(chat, 1, 0, text('x'), 'w2'), 'ForbiddenError'],
      [() => publish(idle, 1, 0, text('x'), 'w1'), 'ForbiddenError'],
      [() => publish('30000000-0000-4000-8000-000000000009', 1, 0), 'NotFoundError'],
      [() => publish(chat, 1, 0, []), 'ValidationError', 'parts'],
      [() => publish(chat, 1, 0, [{ type: 'image' }]), 'ValidationError', 'parts[0]'],
      [() => publish(chat, 1, 0, [{ type: 'text' }]), 'ValidationError', 'parts[0]'],
      [() => publish(chat, 1, 0, text('x'.repeat(40_000))), 'ValidationError', 'parts'],
      [() => publish(chat, -1, 0), 'ValidationError', 'attempt'],
    ];
    for (const [call, typename, field] of cases) {
      const r = await call();
      expect(r.__typename).toBe(typename);
      if (field) expect(r.field).toBe(field);
    }
    const asUser = await local.gql<{ publishChatMessageParts: { __typename: string } }>(PUBLISH, { input: { chatId: gid(chat), workerId: 'w1', attempt: 1, seq: 0, parts: text('x') } }, alice.token);
    expect(asUser.data!.publishChatMessageParts.__typename).toBe('ForbiddenError');
    await publish(chat, 1, 0, text('ok'));
    await expect.poll(() => partSeqs(here)).toEqual(['1:0']);
    expect(here.data).toHaveLength(1); // none of the refused batches reached anyone
    here.unsubscribe();
  });

  it("a burst beyond a chat's rate is RateLimitedError for that chat only, and never slows another", async () => {
    const [hot, calm] = [await runningChat(), await runningChat()];
    // 90 batches at once, over three worker connections (each holds at most 50 operations).
    const clients = [workerWs, local.ws({ authToken: worker.token }), local.ws({ authToken: worker.token })];
    const burstStart = Date.now();
    const results = await Promise.all(Array.from({ length: 90 }, (_, seq) => publish(hot, 1, seq, undefined, 'w1', clients[seq % 3])));
    const elapsed = (Date.now() - burstStart) / 1000;
    const limited = results.filter((r) => r.__typename === 'RateLimitedError');
    const accepted = results.filter((r) => r.__typename === 'PublishChatMessagePartsPayload').length;
    // Burst 60 plus 50/s of refill while the burst ran; everything else refused, nothing queued.
    expect(accepted).toBeGreaterThanOrEqual(60);
    expect(accepted).toBeLessThanOrEqual(60 + Math.ceil(elapsed * 50));
    expect(limited.length).toBe(90 - accepted);
    for (const r of limited) expect(r.retryAfterMs).toBeGreaterThan(0);
    const started = Date.now();
    expect(await publish(calm, 1, 0)).toMatchObject({ __typename: 'PublishChatMessagePartsPayload' });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
