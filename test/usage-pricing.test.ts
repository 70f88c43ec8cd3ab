import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CostOutOfRangeError, messageCostMicros } from '../src/resolvers/pricing.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertModels } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** Models for the missing-price rules (USD per 1M tokens). */
const NO_CACHE_PRICE = '40000000-0000-4000-8000-000000000001';
const NO_PRICES = '40000000-0000-4000-8000-000000000002';
const HUGE_PRICE = '40000000-0000-4000-8000-000000000003';

const APPEND = `mutation ($input: AppendChatMessagesInput!) {
  appendChatMessages(input: $input) {
    __typename
    ... on AppendChatMessagesPayload { messages { totalCostMicros usage { inputTokens cacheReadTokens } } }
    ... on Error { message }
    ... on ValidationError { field }
  }
}`;

describe('missing prices (the cost rule, as the reference backend does)', () => {
  const none = { input_price: null, output_price: null, cache_read_price: null, cache_write_price: null };
  const noCache = { input_price: '3', output_price: '15', cache_read_price: null, cache_write_price: null };

  it('a model with at least one price counts a token class without a price as 0', () => {
    // 1000 × 3 + 200 × 15 = 6000; the 500 cache-read tokens have no price and add nothing.
    expect(messageCostMicros({ inputTokens: '1000', outputTokens: '200', cacheReadTokens: '500' }, noCache)).toBe('6000');
    expect(messageCostMicros({ cacheReadTokens: '500' }, noCache)).toBe('0');
    expect(messageCostMicros({ inputTokens: '0', outputTokens: '0' }, noCache)).toBe('0');
  });

  it('a model with no prices at all is unpriced, even for zero usage', () => {
    expect(messageCostMicros({ inputTokens: '1000' }, none)).toBeNull();
    expect(messageCostMicros({ inputTokens: '0', outputTokens: '0', cacheReadTokens: '0', cacheCreationTokens: '0' }, none)).toBeNull();
  });

  it('no usage reported at all, or no model, stays unpriced', () => {
    expect(messageCostMicros({}, noCache)).toBeNull();
    expect(messageCostMicros(null, noCache)).toBeNull();
    expect(messageCostMicros({ inputTokens: '10' }, null)).toBeNull();
  });

  it('a cost beyond a signed 64-bit integer is a typed range error, never a wrapped number', () => {
    const huge = { ...none, input_price: '999999999999' };
    expect(() => messageCostMicros({ inputTokens: '1000000000000' }, huge)).toThrow(CostOutOfRangeError);
    expect(messageCostMicros({ inputTokens: '9223372' }, { ...none, input_price: '1000000000000' })).toBe('9223372000000000000');
  });
});

describe('usage bounds and pricing through appendChatMessages', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let worker: TestUser;

  async function append(chatId: string, messages: unknown[]) {
    const res = await server.gql<{ appendChatMessages: Record<string, any> }>(APPEND, { input: { chatId: encodeGlobalID('Chat', chatId), workerId: 'w', messages } }, worker.token);
    expect(res.errors).toBeUndefined();
    return res.data!.appendChatMessages;
  }

  async function runningChat(model: string): Promise<string> {
    const id = await insertChat(t.db, alice.user.id, { status: 'running', model });
    await t.db.none("UPDATE chats SET worker_id = 'w', started_at = now(), heartbeat_at = now() WHERE id = $1", [id]);
    return id;
  }

  const snapshot = (chatId: string) =>
    t.db.one(`SELECT (SELECT count(*) FROM chat_messages WHERE chat_id = $1)::int AS messages,
      (SELECT md5(c::text) FROM chats c WHERE id = $1) AS chat`, [chatId]);

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    await t.db.none(`INSERT INTO chat_model_configs (id, provider, model, display_name, context_limit, input_price, output_price, cache_read_price, cache_write_price)
      VALUES ($1, 'p', 'nocache', 'No cache price', 1000, 3, 15, NULL, NULL),
             ($2, 'p', 'noprices', 'No prices', 1000, NULL, NULL, NULL, NULL),
             ($3, 'p', 'huge', 'Huge price', 1000, 999999999999, NULL, NULL, NULL)`, [NO_CACHE_PRICE, NO_PRICES, HUGE_PRICE]);
    alice = await makeUser(t.db);
    worker = await makeUser(t.db, { scopes: ['worker'] });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  const assistant = (usage: Record<string, string>) => ({ role: 'ASSISTANT', parts: [{ type: 'text', text: 'ok' }], usage });

  it('cache-read tokens on a model without a cache price are free, not unpriced', async () => {
    const chat = await runningChat(NO_CACHE_PRICE);
    const r = await append(chat, [assistant({ inputTokens: '1000', outputTokens: '200', cacheReadTokens: '500' })]);
    expect(r.messages[0].totalCostMicros).toBe('6000');
    const stored = await t.db.one('SELECT total_cost_micros::text AS c FROM chat_messages WHERE chat_id = $1', [chat]);
    expect(stored.c).toBe('6000');
  });

  it('zero usage on a model without prices is stored unpriced (NULL)', async () => {
    const chat = await runningChat(NO_PRICES);
    const r = await append(chat, [assistant({ inputTokens: '0', outputTokens: '0' })]);
    expect(r.messages[0].totalCostMicros).toBeNull();
  });

  it('accepts counts up to 10^12', async () => {
    const chat = await runningChat(NO_CACHE_PRICE);
    const r = await append(chat, [assistant({ inputTokens: '1000000000000', cacheReadTokens: '1000000000000' })]);
    expect(r.messages[0]).toMatchObject({ totalCostMicros: '3000000000000', usage: { inputTokens: '1000000000000' } });
  });

  it.each([
    ['inputTokens', '9223372036854775807'],
    ['outputTokens', '1000000000001'],
    ['totalTokens', '1000000000001'],
    ['reasoningTokens', '1000000000001'],
    ['cacheReadTokens', '1000000000001'],
    ['cacheCreationTokens', '1000000000001'],
    ['contextLimit', '1000000000001'],
  ])('%s = %s is a ValidationError naming the field, and nothing is written', async (key, value) => {
    const chat = await runningChat(NO_CACHE_PRICE);
    const before = await snapshot(chat);
    const r = await append(chat, [assistant({ inputTokens: '1' }), assistant({ [key]: value })]);
    expect(r).toMatchObject({ __typename: 'ValidationError', field: `messages[1].usage.${key}` });
    expect(r.message).toMatch(/10\^12|1000000000000/);
    expect(await snapshot(chat)).toEqual(before);
  });

  it('a count beyond 64 bits is rejected before execution as bad input, never an unexpected error', async () => {
    const chat = await runningChat(NO_CACHE_PRICE);
    const before = await snapshot(chat);
    const res = await server.gql(APPEND, { input: { chatId: encodeGlobalID('Chat', chat), workerId: 'w', messages: [assistant({ inputTokens: '99999999999999999999' })] } }, worker.token);
    expect(res.data ?? null).toBeNull();
    // The BigInt scalar refuses it while coercing variables (how that error names the variable is
    // the executor's business); what matters here is a clear input error and no write.
    expect(res.errors![0]!.message).toMatch(/invalid value "99999999999999999999"/);
    expect(res.errors![0]!.message).not.toMatch(/Unexpected error/);
    expect(await snapshot(chat)).toEqual(before);
  });

  it('runtimeMs above 10^12 is a ValidationError naming the field', async () => {
    const chat = await runningChat(NO_CACHE_PRICE);
    const before = await snapshot(chat);
    const r = await append(chat, [{ ...assistant({ inputTokens: '1' }), runtimeMs: '1000000000001' }]);
    expect(r).toMatchObject({ __typename: 'ValidationError', field: 'messages[0].runtimeMs' });
    expect(await snapshot(chat)).toEqual(before);
  });

  it('a cost beyond a signed 64-bit integer is a ValidationError naming the usage, and nothing is written', async () => {
    const chat = await runningChat(HUGE_PRICE);
    const before = await snapshot(chat);
    const r = await append(chat, [assistant({ inputTokens: '1' }), assistant({ inputTokens: '1000000000000' })]);
    expect(r).toMatchObject({ __typename: 'ValidationError', field: 'messages[1].usage' });
    expect(r.message).toMatch(/64-bit/);
    expect(await snapshot(chat)).toEqual(before);
  });
});
