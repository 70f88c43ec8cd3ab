import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reclaimStaleRuns, startStaleRunReclaimer } from '../src/db/staleRuns.js';
import { messageCostMicros } from '../src/resolvers/pricing.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertModels, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const chatGid = (id: string) => encodeGlobalID('Chat', id);
const modelGid = (id: string) => encodeGlobalID('ChatModelConfig', id);
const rawId = (gid: string) => Buffer.from(gid, 'base64').toString().split(':')[1]!;

/** Prices for the rule-15 examples (USD per 1M tokens). */
const PRICED = '20000000-0000-4000-8000-000000000001';
const OUTPUT_ONLY = '20000000-0000-4000-8000-000000000002';

const ERROR_FIELDS = '... on Error { __typename message } ... on ValidationError { field }';

const ACQUIRE = `mutation ($input: AcquireChatsInput!) {
  acquireChats(input: $input) { __typename ... on AcquireChatsPayload { chats { id status } } ${ERROR_FIELDS} }
}`;
const HEARTBEAT = `mutation ($input: HeartbeatChatsInput!) {
  heartbeatChats(input: $input) { __typename ... on HeartbeatChatsPayload { refreshedChatIds lostChatIds } ${ERROR_FIELDS} }
}`;
const APPEND = `mutation ($input: AppendChatMessagesInput!) {
  appendChatMessages(input: $input) {
    __typename
    ... on AppendChatMessagesPayload {
      chat { id status lastModelConfig { id } }
      messages {
        id databaseId role visibility compressed totalCostMicros runtimeMs contentVersion
        modelConfig { id }
        usage { inputTokens outputTokens totalTokens reasoningTokens cacheCreationTokens cacheReadTokens contextLimit }
        parts { __typename ... on ChatTextPart { text } ... on ChatToolCallPart { toolCallId toolName args } ... on ChatToolResultPart { toolCallId result isError } }
      }
    }
    ... on InvalidModelConfigError { message }
    ${ERROR_FIELDS}
  }
}`;
const FINISH = `mutation ($input: FinishChatRunInput!) {
  finishChatRun(input: $input) {
    __typename
    ... on FinishChatRunPayload {
      finished
      chat { id status lastError lastModelConfig { id } queuedMessages { id } }
      promotedMessage { id role modelConfig { id } parts { ... on ChatTextPart { text } } }
    }
    ${ERROR_FIELDS}
  }
}`;
const UPSERT_DIFF = `mutation ($input: UpsertChatDiffStatusInput!) {
  upsertChatDiffStatus(input: $input) {
    __typename
    ... on ChatDiffStatusPayload {
      chat { id diffStatus { headBranch pullRequestTitle } }
      diffStatus { url pullRequestState pullRequestTitle pullRequestDraft changesRequested additions deletions changedFiles authorLogin authorAvatarUrl baseBranch headBranch prNumber commits approved reviewerCount refreshedAt staleAt }
    }
    ${ERROR_FIELDS}
  }
}`;
const SEND = `mutation ($input: SendChatMessageInput!) {
  sendChatMessage(input: $input) { __typename ... on SendChatMessagePayload { queued queuedMessage { id } } ${ERROR_FIELDS} }
}`;
const DELETE_QUEUED = `mutation ($input: DeleteQueuedMessageInput!) {
  deleteQueuedMessage(input: $input) { __typename ${ERROR_FIELDS} }
}`;

describe('worker API', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let worker: TestUser;
  let admin: TestUser;

  /** Runs a mutation and returns its single root field (fails the test on transport errors). */
  async function run<T = any>(query: string, input: Record<string, unknown>, token: string): Promise<T> {
    const res = await server.gql<Record<string, T>>(query, { input }, token);
    expect(res.errors).toBeUndefined();
    return Object.values(res.data!)[0]!;
  }

  /** A chat of alice's that `workerId` is running (set up directly, so no other pending chat is disturbed). */
  async function runningChat(workerId = 'w1', fields: Parameters<typeof insertChat>[2] = {}): Promise<string> {
    const id = await insertChat(t.db, alice.user.id, { status: 'running', ...fields });
    await t.db.none("UPDATE chats SET worker_id = $2, started_at = now(), heartbeat_at = now() WHERE id = $1", [id, workerId]);
    return id;
  }

  /** Parks every pending chat (as waiting) so acquire tests see only their own. */
  const parkPending = () => t.db.none("UPDATE chats SET status = 'waiting' WHERE status = 'pending'");
  const count = async (table: string, chatId?: string) =>
    (await t.db.one<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}${chatId ? ' WHERE chat_id = $1' : ''}`, [chatId])).n;
  const chatRow = (id: string) => t.db.one('SELECT *, xmin::text AS xmin FROM chats WHERE id = $1', [id]);
  const text = (s: string) => [{ type: 'text', text: s }];

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    await t.db.none(`INSERT INTO chat_model_configs (id, provider, model, display_name, context_limit, input_price, output_price, cache_read_price, cache_write_price)
      VALUES ($1, 'p', 'rule15', 'Rule 15', 1000, 1.23, 4.56, 0.7, 7.89), ($2, 'p', 'out', 'Output only', 1000, NULL, 15, NULL, NULL)`, [PRICED, OUTPUT_ONLY]);
    alice = await makeUser(t.db);
    worker = await makeUser(t.db, { scopes: ['worker'] });
    admin = await makeUser(t.db, { admin: true });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  describe('scopes', () => {
    it('user and admin tokens get ForbiddenError from every worker mutation, and nothing is written', async () => {
      await parkPending();
      const pending = await insertChat(t.db, alice.user.id, { status: 'pending' });
      const running = await runningChat('w1');
      const before = { pending: await chatRow(pending), running: await chatRow(running), messages: await count('chat_messages'), diffs: await count('chat_diff_statuses') };
      for (const token of [alice.token, admin.token]) {
        const results = [
          await run(ACQUIRE, { workerId: 'w1', limit: 10 }, token),
          await run(HEARTBEAT, { workerId: 'w1', chatIds: [chatGid(running)] }, token),
          await run(APPEND, { chatId: chatGid(running), workerId: 'w1', messages: [{ role: 'ASSISTANT', parts: text('hi') }] }, token),
          await run(FINISH, { chatId: chatGid(running), workerId: 'w1', status: 'WAITING' }, token),
          await run(UPSERT_DIFF, { chatId: chatGid(running), pullRequestTitle: 'x', pullRequestDraft: false, changesRequested: false, additions: 1, deletions: 1, changedFiles: 1 }, token),
        ];
        for (const r of results) expect(r.__typename).toBe('ForbiddenError');
      }
      expect(await chatRow(pending)).toEqual(before.pending);
      expect(await chatRow(running)).toEqual(before.running);
      expect(await count('chat_messages')).toBe(before.messages);
      expect(await count('chat_diff_statuses')).toBe(before.diffs);
    });
  });

  describe('acquireChats', () => {
    it('claims pending, non-archived chats oldest-updated first and marks them running for the worker', async () => {
      await parkPending();
      const now = Date.now();
      const newest = await insertChat(t.db, alice.user.id, { status: 'pending', updatedAt: new Date(now - 1000) });
      const oldest = await insertChat(t.db, alice.user.id, { status: 'pending', updatedAt: new Date(now - 3000) });
      const middle = await insertChat(t.db, alice.user.id, { status: 'pending', updatedAt: new Date(now - 2000) });
      const archived = await insertChat(t.db, alice.user.id, { status: 'pending', archived: true, updatedAt: new Date(now - 9000) });
      await insertChat(t.db, alice.user.id, { status: 'waiting', updatedAt: new Date(now - 9000) });

      const one = await run(ACQUIRE, { workerId: 'w-a' }, worker.token);
      expect(one.chats).toEqual([{ id: chatGid(oldest), status: 'RUNNING' }]);
      const rest = await run(ACQUIRE, { workerId: 'w-b', limit: 10 }, worker.token);
      expect(rest.chats.map((c: any) => c.id)).toEqual([chatGid(middle), chatGid(newest)]);

      const row = await chatRow(oldest);
      expect(row).toMatchObject({ status: 'running', worker_id: 'w-a', last_error: null });
      expect(row.started_at).toBeInstanceOf(Date);
      expect(row.heartbeat_at).toBeInstanceOf(Date);
      expect((await chatRow(middle)).worker_id).toBe('w-b');
      expect((await chatRow(archived)).status).toBe('pending');
      expect((await run(ACQUIRE, { workerId: 'w-a', limit: 10 }, worker.token)).chats).toEqual([]);
    });

    it('rejects a bad limit or workerId and claims nothing', async () => {
      await parkPending();
      const pending = await insertChat(t.db, alice.user.id, { status: 'pending' });
      for (const input of [{ workerId: 'w', limit: 0 }, { workerId: 'w', limit: 11 }, { workerId: '  ' }, { workerId: 'x'.repeat(201) }]) {
        const r = await run(ACQUIRE, input, worker.token);
        expect(r.__typename).toBe('ValidationError');
      }
      expect((await chatRow(pending)).status).toBe('pending');
    });

    it('four workers racing over 20 pending chats get disjoint sets that cover all of them', async () => {
      await parkPending();
      const ids = [];
      for (let i = 0; i < 20; i++) ids.push(await insertChat(t.db, alice.user.id, { status: 'pending' }));
      const drain = async (workerId: string) => {
        const got: string[] = [];
        for (;;) {
          const r = await run(ACQUIRE, { workerId, limit: 3 }, worker.token);
          expect(r.__typename).toBe('AcquireChatsPayload');
          if (r.chats.length === 0) return got;
          got.push(...r.chats.map((c: any) => rawId(c.id)));
        }
      };
      const sets = await Promise.all(['r1', 'r2', 'r3', 'r4'].map(drain));
      const all = sets.flat();
      expect(new Set(all).size).toBe(all.length); // disjoint
      expect([...all].sort()).toEqual([...ids].sort()); // union = all
      const owners = await t.db.any<{ id: string; worker_id: string }>('SELECT id, worker_id FROM chats WHERE id = ANY($1::uuid[])', [ids]);
      for (const { id, worker_id } of owners) expect(sets[['r1', 'r2', 'r3', 'r4'].indexOf(worker_id)]).toContain(id);
    });
  });

  describe('heartbeatChats', () => {
    it("refreshes only the worker's running chats, reports the others lost, and neither reorders nor emits events", async () => {
      const mine = await runningChat('hb');
      const theirs = await runningChat('other');
      const idle = await insertChat(t.db, alice.user.id, { status: 'waiting' });
      const gone = '30000000-0000-4000-8000-000000000009';
      await t.db.none("UPDATE chats SET heartbeat_at = now() - interval '1 minute' WHERE id = ANY($1::uuid[])", [[mine, theirs]]);
      const before = await chatRow(mine);
      const events = await count('chat_events');

      const r = await run(HEARTBEAT, { workerId: 'hb', chatIds: [chatGid(mine), chatGid(theirs), chatGid(idle), chatGid(gone)] }, worker.token);
      expect(r).toEqual({ __typename: 'HeartbeatChatsPayload', refreshedChatIds: [chatGid(mine)], lostChatIds: [chatGid(theirs), chatGid(idle), chatGid(gone)] });

      const after = await chatRow(mine);
      expect(after.heartbeat_at.getTime()).toBeGreaterThan(before.heartbeat_at.getTime());
      expect(after.updated_at).toEqual(before.updated_at);
      expect((await chatRow(theirs)).heartbeat_at.getTime()).toBeLessThan(Date.now() - 30_000);
      expect(await count('chat_events')).toBe(events);
    });

    it('rejects a malformed or foreign id and refreshes nothing', async () => {
      const mine = await runningChat('hb2');
      await t.db.none("UPDATE chats SET heartbeat_at = now() - interval '1 minute' WHERE id = $1", [mine]);
      const before = await chatRow(mine);
      for (const bad of ['nope', encodeGlobalID('User', alice.user.id)]) {
        const r = await run(HEARTBEAT, { workerId: 'hb2', chatIds: [chatGid(mine), bad] }, worker.token);
        expect(r).toMatchObject({ __typename: 'ValidationError', field: 'chatIds[1]' });
      }
      expect(await chatRow(mine)).toEqual(before);
    });
  });

  describe('cost (the cost rule)', () => {
    const prices = { input_price: '1.23', output_price: '4.56', cache_read_price: '0.7', cache_write_price: '7.89' };

    it('sums exactly and rounds up once', () => {
      expect(messageCostMicros({ inputTokens: '101', outputTokens: '201', cacheReadTokens: '1005', cacheCreationTokens: '33' }, prices)).toBe('2005');
      expect(messageCostMicros({ inputTokens: '1' }, { ...prices, input_price: '0.000001' })).toBe('1');
      expect(messageCostMicros({ inputTokens: '9223372036854775807' }, { ...prices, input_price: '1' })).toBe('9223372036854775807');
    });

    it('bills reasoning inside output once', () => {
      expect(messageCostMicros({ outputTokens: '500' }, { input_price: null, output_price: '15', cache_read_price: null, cache_write_price: null })).toBe('7500');
    });

    it('a zero price is free; a class without a price counts 0 unless the model has no price at all', () => {
      const free = { input_price: '0', output_price: '0', cache_read_price: '0', cache_write_price: '0' };
      expect(messageCostMicros({ inputTokens: '1000', outputTokens: '1000' }, free)).toBe('0');
      const none = { input_price: null, output_price: null, cache_read_price: null, cache_write_price: null };
      expect(messageCostMicros({ inputTokens: '1000' }, none)).toBeNull();
      // A model with some prices: a class without one adds nothing.
      expect(messageCostMicros({ inputTokens: '10', cacheCreationTokens: '0' }, { ...prices, cache_write_price: null })).toBe('13');
      expect(messageCostMicros({ inputTokens: '10', cacheCreationTokens: '1' }, { ...prices, cache_write_price: null })).toBe('13');
      expect(messageCostMicros(null, prices)).toBeNull();
      expect(messageCostMicros({ inputTokens: '10' }, null)).toBeNull();
    });
  });

  describe('appendChatMessages', () => {
    it('appends in order with parts, usage, runtime and cost per assistant message', async () => {
      const chat = await runningChat('ap', { model: PRICED });
      const r = await run(APPEND, {
        chatId: chatGid(chat),
        workerId: 'ap',
        messages: [
          {
            role: 'ASSISTANT',
            parts: [{ type: 'reasoning', text: 'hmm' }, { type: 'tool-call', toolCallId: 'c1', toolName: 'ls', args: { dir: '.' } }],
            usage: { inputTokens: '101', outputTokens: '201', totalTokens: '302', reasoningTokens: '50', cacheReadTokens: '1005', cacheCreationTokens: '33', contextLimit: '1000' },
            runtimeMs: '1234',
          },
          { role: 'TOOL', visibility: 'MODEL', parts: [{ type: 'tool-result', toolCallId: 'c1', toolName: 'ls', result: ['a.ts'] }] },
          { role: 'ASSISTANT', modelConfigId: modelGid(OUTPUT_ONLY), parts: text('done'), usage: { outputTokens: '500', reasoningTokens: '200' } },
          { role: 'ASSISTANT', modelConfigId: modelGid(MODEL.free), parts: text('free'), usage: { inputTokens: '7', outputTokens: '9' } },
          { role: 'ASSISTANT', modelConfigId: modelGid(MODEL.unpriced), parts: text('unpriced'), usage: { inputTokens: '7', outputTokens: '9' } },
          { role: 'USER', compressed: true, visibility: 'MODEL', parts: text('summary') },
        ],
      }, worker.token);
      expect(r.__typename).toBe('AppendChatMessagesPayload');
      const [a, tool, b, free, unpriced, summary] = r.messages;
      expect(a).toMatchObject({
        role: 'ASSISTANT', visibility: 'BOTH', contentVersion: 1, totalCostMicros: '2005', runtimeMs: '1234', modelConfig: { id: modelGid(PRICED) },
        usage: { inputTokens: '101', outputTokens: '201', totalTokens: '302', reasoningTokens: '50', cacheReadTokens: '1005', cacheCreationTokens: '33', contextLimit: '1000' },
        parts: [{ __typename: 'ChatReasoningPart' }, { __typename: 'ChatToolCallPart', toolCallId: 'c1', toolName: 'ls', args: { dir: '.' } }],
      });
      expect(tool).toMatchObject({ role: 'TOOL', visibility: 'MODEL', totalCostMicros: null, modelConfig: null, usage: null, parts: [{ result: ['a.ts'], isError: false }] });
      expect(b).toMatchObject({ totalCostMicros: '7500', modelConfig: { id: modelGid(OUTPUT_ONLY) } });
      expect(free.totalCostMicros).toBe('0');
      expect(unpriced.totalCostMicros).toBeNull();
      expect(summary).toMatchObject({ role: 'USER', compressed: true, totalCostMicros: null });
      expect(r.messages.map((m: any) => Number(m.databaseId))).toEqual([...r.messages.map((m: any) => Number(m.databaseId))].sort((x, y) => x - y));
      // The last message naming a model decides the chat's model (the message insert hot path rule moved it in the insert statement).
      expect(r.chat).toMatchObject({ status: 'RUNNING', lastModelConfig: { id: modelGid(MODEL.unpriced) } });
      expect((await chatRow(chat)).last_model_config_id).toBe(MODEL.unpriced);
    });

    it('hot path: a same-model append leaves the chats row untouched; a model switch moves last_model_config_id', async () => {
      const chat = await runningChat('hot', { model: MODEL.priced });
      const before = await chatRow(chat);
      const same = await run(APPEND, { chatId: chatGid(chat), workerId: 'hot', messages: [{ role: 'ASSISTANT', parts: text('same'), usage: { inputTokens: '1' } }] }, worker.token);
      expect(same.messages[0].modelConfig.id).toBe(modelGid(MODEL.priced));
      expect(await chatRow(chat)).toEqual(before); // same xmin: no new row version at all

      const switched = await run(APPEND, { chatId: chatGid(chat), workerId: 'hot', messages: [{ role: 'ASSISTANT', modelConfigId: modelGid(MODEL.gpt), parts: text('gpt') }] }, worker.token);
      expect(switched.chat.lastModelConfig.id).toBe(modelGid(MODEL.gpt));
      const after = await chatRow(chat);
      expect(after.xmin).not.toBe(before.xmin);
      expect(after.last_model_config_id).toBe(MODEL.gpt);
    });

    it('a worker that does not own the run gets ForbiddenError and nothing is written', async () => {
      const chat = await runningChat('owner');
      const idle = await insertChat(t.db, alice.user.id, { status: 'waiting' });
      const messages = [{ role: 'ASSISTANT', parts: text('x') }];
      const before = await count('chat_messages');
      const other = await run(APPEND, { chatId: chatGid(chat), workerId: 'intruder', messages }, worker.token);
      expect(other).toMatchObject({ __typename: 'ForbiddenError', message: expect.stringContaining('no longer owns') });
      const notRunning = await run(APPEND, { chatId: chatGid(idle), workerId: 'owner', messages }, worker.token);
      expect(notRunning).toMatchObject({ __typename: 'ForbiddenError', message: expect.stringContaining('it is waiting') });
      expect(await count('chat_messages')).toBe(before);
    });

    it('rejects bad input with typed errors and writes nothing', async () => {
      const chat = await runningChat('bad');
      const before = await chatRow(chat);
      const msg = (extra: Record<string, unknown>) => ({ role: 'ASSISTANT', parts: text('ok'), ...extra });
      const cases: Array<[Record<string, unknown>, string, string?]> = [
        [{ messages: [] }, 'ValidationError', 'messages'],
        [{ messages: Array.from({ length: 51 }, () => msg({})) }, 'ValidationError', 'messages'],
        [{ messages: [msg({ parts: 'not an array' })] }, 'ValidationError', 'messages[0].parts'],
        [{ messages: [msg({}), msg({ parts: [{ type: 'bogus' }] })] }, 'ValidationError', 'messages[1].parts'],
        [{ messages: [msg({ parts: [{ type: 'text' }] })] }, 'ValidationError', 'messages[0].parts'],
        [{ messages: [msg({ parts: [] })] }, 'ValidationError', 'messages[0].parts'],
        [{ messages: [msg({ parts: text('x'.repeat(600 * 1024)) })] }, 'ValidationError', 'messages[0].parts'],
        [{ messages: [msg({ usage: { inputTokens: '-1' } })] }, 'ValidationError', 'messages[0].usage.inputTokens'],
        [{ messages: [msg({ usage: { outputTokens: '10', reasoningTokens: '11' } })] }, 'ValidationError', 'messages[0].usage.reasoningTokens'],
        [{ messages: [msg({ runtimeMs: '-5' })] }, 'ValidationError', 'messages[0].runtimeMs'],
        [{ messages: [msg({ modelConfigId: modelGid('30000000-0000-4000-8000-000000000000') })] }, 'InvalidModelConfigError'],
        [{ messages: [msg({ modelConfigId: chatGid(chat) })] }, 'ValidationError', 'messages[0].modelConfigId'],
        [{ chatId: encodeGlobalID('User', alice.user.id) }, 'ValidationError', 'chatId'],
        [{ chatId: chatGid('30000000-0000-4000-8000-000000000000') }, 'NotFoundError'],
        [{ workerId: '' }, 'ValidationError', 'workerId'],
      ];
      for (const [override, typename, field] of cases) {
        const r = await run(APPEND, { chatId: chatGid(chat), workerId: 'bad', messages: [msg({})], ...override }, worker.token);
        expect(r.__typename, JSON.stringify(override).slice(0, 120)).toBe(typename);
        if (field) expect(r.field).toBe(field);
      }
      expect(await count('chat_messages', chat)).toBe(0);
      expect(await chatRow(chat)).toEqual(before);
    });
  });

  describe('finishChatRun', () => {
    it('ERROR stores lastError and drops the claim; the next non-error transition clears it', async () => {
      const chat = await runningChat('fin');
      const r = await run(FINISH, { chatId: chatGid(chat), workerId: 'fin', status: 'ERROR', lastError: 'model overloaded' }, worker.token);
      expect(r).toMatchObject({ finished: true, promotedMessage: null, chat: { status: 'ERROR', lastError: 'model overloaded' } });
      expect(await chatRow(chat)).toMatchObject({ status: 'error', last_error: 'model overloaded', worker_id: null, started_at: null, heartbeat_at: null });
      const sent = await run(SEND, { chatId: chatGid(chat), content: [{ type: 'TEXT', text: 'retry' }] }, alice.token);
      expect(sent).toMatchObject({ __typename: 'SendChatMessagePayload', queued: false });
      expect(await chatRow(chat)).toMatchObject({ status: 'pending', last_error: null });
    });

    it('WAITING and REQUIRES_ACTION end the run without promotion when the queue is empty', async () => {
      for (const status of ['WAITING', 'REQUIRES_ACTION']) {
        const chat = await runningChat('fin2');
        const r = await run(FINISH, { chatId: chatGid(chat), workerId: 'fin2', status }, worker.token);
        expect(r).toMatchObject({ finished: true, promotedMessage: null, chat: { status, lastError: null } });
        expect((await chatRow(chat)).worker_id).toBeNull();
      }
    });

    it('rejects invalid status and lastError combinations, writing nothing', async () => {
      const chat = await runningChat('fin3');
      const before = await chatRow(chat);
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ status: 'ERROR' }, 'lastError'],
        [{ status: 'ERROR', lastError: '   ' }, 'lastError'],
        [{ status: 'ERROR', lastError: 'x'.repeat(10_001) }, 'lastError'],
        [{ status: 'WAITING', lastError: 'no' }, 'lastError'],
        [{ status: 'RUNNING' }, 'status'],
        [{ status: 'PENDING' }, 'status'],
        [{ status: 'PAUSED' }, 'status'],
        [{ status: 'WAITING', chatId: encodeGlobalID('ChatModelConfig', MODEL.priced) }, 'chatId'],
        [{ status: 'WAITING', workerId: '' }, 'workerId'],
      ];
      for (const [override, field] of cases) {
        const r = await run(FINISH, { chatId: chatGid(chat), workerId: 'fin3', ...override }, worker.token);
        expect(r, JSON.stringify(override).slice(0, 80)).toMatchObject({ __typename: 'ValidationError', field });
      }
      expect((await run(FINISH, { chatId: chatGid('30000000-0000-4000-8000-000000000000'), workerId: 'fin3', status: 'WAITING' }, worker.token)).__typename).toBe('NotFoundError');
      const invalidEnum = await server.gql(FINISH, { input: { chatId: chatGid(chat), workerId: 'fin3', status: 'DONE' } }, worker.token);
      expect(invalidEnum.errors?.[0]?.message).toMatch(/DONE/);
      expect(await chatRow(chat)).toEqual(before);
    });

    it('a finish from a worker that no longer owns the chat changes nothing and says finished: false', async () => {
      const chat = await runningChat('real');
      await t.db.none("INSERT INTO chat_queued_messages (chat_id, content, model_config_id) VALUES ($1, $2::jsonb, $3)", [chat, JSON.stringify(text('q')), MODEL.gpt]);
      const before = await chatRow(chat);
      const r = await run(FINISH, { chatId: chatGid(chat), workerId: 'late', status: 'WAITING' }, worker.token);
      expect(r).toMatchObject({ __typename: 'FinishChatRunPayload', finished: false, promotedMessage: null, chat: { status: 'RUNNING' } });
      expect(await chatRow(chat)).toEqual(before);
      expect(await count('chat_queued_messages', chat)).toBe(1);
      // The real owner finishes; a repeat of the same finish is then a no-op as well.
      expect((await run(FINISH, { chatId: chatGid(chat), workerId: 'real', status: 'ERROR', lastError: 'boom' }, worker.token)).finished).toBe(true);
      const again = await run(FINISH, { chatId: chatGid(chat), workerId: 'real', status: 'WAITING' }, worker.token);
      expect(again).toMatchObject({ finished: false, chat: { status: 'ERROR', lastError: 'boom' } });
      expect(await count('chat_queued_messages', chat)).toBe(1);
    });

    it('auto-promotes queued messages one per WAITING finish, FIFO, each with its own model (the auto-promotion rule)', async () => {
      await parkPending();
      const chat = await runningChat('ap1', { model: MODEL.priced });
      // Alice sends while the chat runs: each message is queued with the model she chose.
      for (const [textValue, model] of [['first', MODEL.gpt], ['second', MODEL.free], ['third', null]] as const) {
        const r = await run(SEND, { chatId: chatGid(chat), content: [{ type: 'TEXT', text: textValue }], ...(model ? { modelConfigId: modelGid(model) } : {}) }, alice.token);
        expect(r.queued).toBe(true);
      }
      // The third had no explicit model: it was queued with the chat's model at send time.
      const expected = [['first', MODEL.gpt], ['second', MODEL.free], ['third', MODEL.priced]];
      for (const [textValue, model] of expected) {
        const r = await run(FINISH, { chatId: chatGid(chat), workerId: 'ap1', status: 'WAITING' }, worker.token);
        expect(r).toMatchObject({
          finished: true,
          promotedMessage: { role: 'USER', modelConfig: { id: modelGid(model!) }, parts: [{ text: textValue }] },
          chat: { status: 'PENDING', lastModelConfig: { id: modelGid(model!) } },
        });
        expect((await run(ACQUIRE, { workerId: 'ap1' }, worker.token)).chats).toEqual([{ id: chatGid(chat), status: 'RUNNING' }]);
      }
      const last = await run(FINISH, { chatId: chatGid(chat), workerId: 'ap1', status: 'WAITING' }, worker.token);
      expect(last).toMatchObject({ finished: true, promotedMessage: null, chat: { status: 'WAITING', queuedMessages: [] } });
      const texts = await t.db.map("SELECT content->0->>'text' AS t FROM chat_messages WHERE chat_id = $1 ORDER BY id", [chat], (r) => r.t);
      expect(texts).toEqual(['first', 'second', 'third']);
    });

    it('a queued message whose model was deleted is promoted with the chat model; ERROR and archived chats promote nothing', async () => {
      const doomed = '20000000-0000-4000-8000-0000000000dd';
      await t.db.none("INSERT INTO chat_model_configs (id, provider, model, context_limit) VALUES ($1, 'p', 'doomed', 1000)", [doomed]);
      const chat = await runningChat('fb', { model: MODEL.gpt });
      await t.db.none("INSERT INTO chat_queued_messages (chat_id, content, model_config_id) VALUES ($1, $2::jsonb, $3)", [chat, JSON.stringify(text('q')), doomed]);
      await t.db.none('UPDATE chat_model_configs SET deleted = true, deleted_at = now() WHERE id = $1', [doomed]);
      const r = await run(FINISH, { chatId: chatGid(chat), workerId: 'fb', status: 'WAITING' }, worker.token);
      expect(r.promotedMessage.modelConfig.id).toBe(modelGid(MODEL.gpt));

      const errored = await runningChat('fb2');
      await t.db.none("INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, $2::jsonb)", [errored, JSON.stringify(text('q'))]);
      expect((await run(FINISH, { chatId: chatGid(errored), workerId: 'fb2', status: 'ERROR', lastError: 'x' }, worker.token)).promotedMessage).toBeNull();
      expect(await count('chat_queued_messages', errored)).toBe(1);

      const archived = await runningChat('fb3', { archived: true });
      await t.db.none("INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, $2::jsonb)", [archived, JSON.stringify(text('q'))]);
      const a = await run(FINISH, { chatId: chatGid(archived), workerId: 'fb3', status: 'WAITING' }, worker.token);
      expect(a).toMatchObject({ finished: true, promotedMessage: null, chat: { status: 'WAITING' } });
      expect(await count('chat_queued_messages', archived)).toBe(1);
    });

    it('auto-promotion racing deleteQueuedMessage never loses or duplicates the message', async () => {
      const outcomes = { promoted: 0, deleted: 0 };
      for (let i = 0; i < 12; i++) {
        const chat = await runningChat(`race${i}`);
        const q = await t.db.one("INSERT INTO chat_queued_messages (chat_id, content, created_by) VALUES ($1, $2::jsonb, $3) RETURNING id", [chat, JSON.stringify(text(`q${i}`)), alice.user.id]);
        const finish = () => run(FINISH, { chatId: chatGid(chat), workerId: `race${i}`, status: 'WAITING' }, worker.token);
        const del = () => run(DELETE_QUEUED, { chatId: chatGid(chat), queuedMessageId: encodeGlobalID('ChatQueuedMessage', q.id) }, alice.token);
        // Both requests are in flight together; alternate which one is sent first.
        const [fin, dq] = i % 2 ? await Promise.all([finish(), del()]) : (await Promise.all([del(), finish()])).reverse();
        const copies = await t.db.one<{ n: number }>("SELECT count(*)::int AS n FROM chat_messages WHERE chat_id = $1 AND content->0->>'text' = $2", [chat, `q${i}`]);
        expect(await count('chat_queued_messages', chat)).toBe(0);
        expect(fin.finished).toBe(true);
        if (dq.__typename === 'ChatPayload') {
          // Delete won: finish saw an empty queue.
          expect(copies.n).toBe(0);
          expect(fin.promotedMessage).toBeNull();
          expect(fin.chat.status).toBe('WAITING');
          outcomes.deleted++;
        } else {
          expect(dq.__typename).toBe('NotFoundError');
          expect(copies.n).toBe(1);
          expect(fin.promotedMessage.parts[0].text).toBe(`q${i}`);
          outcomes.promoted++;
        }
      }
      expect(outcomes.promoted + outcomes.deleted).toBe(12);
    });
  });

  describe('upsertChatDiffStatus', () => {
    const full = {
      url: 'https://github.com/acme/web/pull/7',
      pullRequestState: 'OPEN',
      pullRequestTitle: 'Add dark mode',
      pullRequestDraft: true,
      changesRequested: false,
      additions: 10,
      deletions: 2,
      changedFiles: 3,
      authorLogin: 'alice',
      authorAvatarUrl: 'https://avatars.example.com/alice.png',
      baseBranch: 'main',
      headBranch: 'feat/dark',
      prNumber: 7,
      commits: 4,
      approved: false,
      reviewerCount: 2,
      refreshedAt: '2030-01-01T00:00:00.000Z',
      staleAt: '2030-01-01T00:05:00.000Z',
    };

    it('inserts, then replaces every field (omitted optional fields become null)', async () => {
      const chat = await insertChat(t.db, alice.user.id);
      const first = await run(UPSERT_DIFF, { chatId: chatGid(chat), ...full }, worker.token);
      expect(first.diffStatus).toEqual(full);
      expect(first.chat.diffStatus).toEqual({ headBranch: 'feat/dark', pullRequestTitle: 'Add dark mode' });

      const minimal = { pullRequestTitle: 'Renamed', pullRequestDraft: false, changesRequested: true, additions: 0, deletions: 0, changedFiles: 0 };
      const second = await run(UPSERT_DIFF, { chatId: chatGid(chat), ...minimal, pullRequestState: 'MERGED', headBranch: 'feat/dark2' }, worker.token);
      expect(second.diffStatus).toEqual({
        ...minimal, pullRequestState: 'MERGED', headBranch: 'feat/dark2',
        url: null, authorLogin: null, authorAvatarUrl: null, baseBranch: null, prNumber: null, commits: null, approved: null, reviewerCount: null, refreshedAt: null, staleAt: null,
      });
      expect(await count('chat_diff_statuses', chat)).toBe(1);
    });

    it('rejects negative numbers, bad URLs and unknown chats, writing nothing', async () => {
      const chat = await insertChat(t.db, alice.user.id);
      await run(UPSERT_DIFF, { chatId: chatGid(chat), ...full }, worker.token);
      const before = await t.db.one('SELECT * FROM chat_diff_statuses WHERE chat_id = $1', [chat]);
      const cases: Array<[Record<string, unknown>, string, string?]> = [
        [{ additions: -1 }, 'ValidationError', 'additions'],
        [{ deletions: -1 }, 'ValidationError', 'deletions'],
        [{ changedFiles: -3 }, 'ValidationError', 'changedFiles'],
        [{ commits: -1 }, 'ValidationError', 'commits'],
        [{ reviewerCount: -1 }, 'ValidationError', 'reviewerCount'],
        [{ prNumber: 0 }, 'ValidationError', 'prNumber'],
        [{ url: 'not a url' }, 'ValidationError', 'url'],
        [{ url: 'ftp://example.com/x' }, 'ValidationError', 'url'],
        [{ authorAvatarUrl: 'javascript:alert(1)' }, 'ValidationError', 'authorAvatarUrl'],
        [{ pullRequestTitle: 'x'.repeat(1001) }, 'ValidationError', 'pullRequestTitle'],
        [{ chatId: encodeGlobalID('ChatMessage', '1') }, 'ValidationError', 'chatId'],
        [{ chatId: chatGid('30000000-0000-4000-8000-000000000000') }, 'NotFoundError'],
      ];
      for (const [override, typename, field] of cases) {
        const r = await run(UPSERT_DIFF, { chatId: chatGid(chat), ...full, ...override }, worker.token);
        expect(r.__typename, JSON.stringify(override).slice(0, 80)).toBe(typename);
        if (field) expect(r.field).toBe(field);
      }
      expect(await t.db.one('SELECT * FROM chat_diff_statuses WHERE chat_id = $1', [chat])).toEqual(before);
      expect(await count('chat_diff_statuses', '30000000-0000-4000-8000-000000000000')).toBe(0);
    });
  });

  describe('stale runs (the stale runs rule)', () => {
    beforeEach(async () => {
      // Earlier tests leave running chats with fresh heartbeats; only these tests' chats may go stale.
      await t.db.none("UPDATE chats SET heartbeat_at = now() WHERE status = 'running'");
    });

    it('returns stale running chats to pending; the old worker then loses append, finish and heartbeat', async () => {
      const stale = await runningChat('sleepy');
      const fresh = await runningChat('awake');
      await t.db.none("UPDATE chats SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1", [stale]);

      const reclaimed = await reclaimStaleRuns(t.db, 300);
      expect(reclaimed.map((c) => [c.id, c.status, c.worker_id, c.previous_worker_id])).toEqual([[stale, 'pending', null, 'sleepy']]);
      expect(await chatRow(stale)).toMatchObject({ status: 'pending', worker_id: null, started_at: null, heartbeat_at: null });
      expect(await chatRow(fresh)).toMatchObject({ status: 'running', worker_id: 'awake' });

      const append = await run(APPEND, { chatId: chatGid(stale), workerId: 'sleepy', messages: [{ role: 'ASSISTANT', parts: text('late') }] }, worker.token);
      expect(append).toMatchObject({ __typename: 'ForbiddenError', message: expect.stringContaining('no longer owns') });
      const finish = await run(FINISH, { chatId: chatGid(stale), workerId: 'sleepy', status: 'WAITING' }, worker.token);
      expect(finish).toMatchObject({ finished: false, chat: { status: 'PENDING' } });
      const hb = await run(HEARTBEAT, { workerId: 'sleepy', chatIds: [chatGid(stale)] }, worker.token);
      expect(hb.lostChatIds).toEqual([chatGid(stale)]);
      expect(await count('chat_messages', stale)).toBe(0);

      // Another worker can take it over.
      await parkPending();
      await t.db.none("UPDATE chats SET status = 'pending' WHERE id = $1", [stale]);
      expect((await run(ACQUIRE, { workerId: 'rescuer' }, worker.token)).chats).toEqual([{ id: chatGid(stale), status: 'RUNNING' }]);
    });

    it('the periodic reclaimer runs on its timer and stops cleanly', async () => {
      const chat = await runningChat('dead');
      await t.db.none("UPDATE chats SET heartbeat_at = now() - interval '5 seconds' WHERE id = $1", [chat]);
      const reclaimer = startStaleRunReclaimer(t.db, { staleSeconds: 2, intervalMs: 50 });
      try {
        await expect.poll(async () => (await chatRow(chat)).status, { timeout: 5000, interval: 50 }).toBe('pending');
        expect(await reclaimer.runNow()).toBe(0);
      } finally {
        await reclaimer.stop();
      }
    });
  });
});
