import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const modelGid = (id: string) => encodeGlobalID('ChatModelConfig', id);
const rawId = (gid: string) => Buffer.from(gid, 'base64').toString().split(':')[1]!;

const CONFIG = `modelConfig {
  id provider model displayName enabled isDefault deleted contextLimit compressionThreshold
  pricing { inputPricePerMillionTokens outputPricePerMillionTokens cacheReadPricePerMillionTokens cacheWritePricePerMillionTokens }
}`;

describe('admin model-config mutations', () => {
  let t: TestDatabase;
  let server: TestServer;
  let admin: TestUser;
  let alice: TestUser;
  let worker: TestUser;
  /** An admin user whose token lacks the admin scope. */
  let adminUserToken: TestUser;

  /** Calls `mutation` (its input type is `<Mutation>Input`) and returns the result union. */
  async function call(mutation: string, input: Record<string, unknown>, token = admin.token): Promise<any> {
    const inputType = `${mutation[0]!.toUpperCase()}${mutation.slice(1)}Input`;
    const query = `mutation ($input: ${inputType}!) {
      ${mutation}(input: $input) { __typename ... on Error { message } ... on ValidationError { field } ... on ChatModelConfigPayload { ${CONFIG} } }
    }`;
    const res = await server.gql<Record<string, unknown>>(query, { input }, token);
    expect(res.errors).toBeUndefined();
    return res.data![mutation];
  }

  /** Every config row and the model-config event count: what a rejected call must leave unchanged. */
  const snapshot = () =>
    t.db.one(`SELECT (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM chat_model_configs c) AS configs,
      (SELECT count(*) FROM chat_model_configs)::int AS n,
      (SELECT count(*) FROM chat_events WHERE kind LIKE 'model_config%')::int AS events`);
  const defaults = () => t.db.map('SELECT id FROM chat_model_configs WHERE is_default AND NOT deleted', [], (r) => r.id as string);

  const CREATE_CHAT = `mutation ($input: CreateChatInput!) {
    createChat(input: $input) { __typename ... on Error { message } ... on ChatMessagePayload { chat { id lastModelConfig { id } } } }
  }`;
  const SEND = `mutation ($input: SendChatMessageInput!) {
    sendChatMessage(input: $input) { __typename ... on Error { message } ... on SendChatMessagePayload { queued } }
  }`;
  const createChat = async (extra: Record<string, unknown> = {}) =>
    (await server.gql<any>(CREATE_CHAT, { input: { content: [{ type: 'TEXT', text: 'hi' }], ...extra } }, alice.token)).data.createChat;

  beforeAll(async () => {
    t = await createTestDatabase();
    admin = await makeUser(t.db, { admin: true });
    adminUserToken = await makeUser(t.db, { admin: true, scopes: ['user'] });
    alice = await makeUser(t.db);
    worker = await makeUser(t.db, { scopes: ['worker'] });
    server = await startTestServer(t.db);
  });
  beforeEach(async () => {
    // Each test starts from the four fixture configs (MODEL.priced the default) and no chats.
    await t.db.none('DELETE FROM chats; DELETE FROM chat_model_configs');
    await insertModels(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('createModelConfig stores every field, with exact decimal prices, null (unpriced) and 0 (free)', async () => {
    const r = await call('createModelConfig', {
      provider: 'anthropic',
      model: 'claude-opus',
      displayName: 'Claude Opus',
      enabled: true,
      isDefault: false,
      contextLimit: '1000000',
      compressionThreshold: 80,
      inputPricePerMillionTokens: '15',
      outputPricePerMillionTokens: '75.000000000001',
      cacheReadPricePerMillionTokens: '0',
      cacheWritePricePerMillionTokens: null,
    });
    expect(r).toMatchObject({
      __typename: 'ChatModelConfigPayload',
      modelConfig: {
        provider: 'anthropic', model: 'claude-opus', displayName: 'Claude Opus', enabled: true, isDefault: false, deleted: false,
        contextLimit: '1000000', compressionThreshold: 80,
        pricing: { inputPricePerMillionTokens: '15', outputPricePerMillionTokens: '75.000000000001', cacheReadPricePerMillionTokens: '0', cacheWritePricePerMillionTokens: null },
      },
    });
    const row = await t.db.one('SELECT * FROM chat_model_configs WHERE id = $1', [rawId(r.modelConfig.id)]);
    expect(row).toMatchObject({ output_price: '75.000000000001', cache_read_price: '0', cache_write_price: null });

    const minimal = await call('createModelConfig', { provider: 'x', model: 'tiny', contextLimit: '4096' });
    expect(minimal.modelConfig).toMatchObject({ displayName: 'tiny', enabled: true, isDefault: false, compressionThreshold: 70, pricing: { inputPricePerMillionTokens: null } });
    expect(await defaults()).toEqual([MODEL.priced]);
  });

  it('createModelConfig with isDefault moves the single default to it', async () => {
    const r = await call('createModelConfig', { provider: 'x', model: 'new-default', contextLimit: '1000', isDefault: true });
    expect(r.modelConfig.isDefault).toBe(true);
    expect(await defaults()).toEqual([rawId(r.modelConfig.id)]);
    const created = await createChat();
    expect(created.chat.lastModelConfig.id).toBe(r.modelConfig.id);
  });

  it('updateModelConfig changes only the given fields; a price set to null becomes unpriced', async () => {
    const r = await call('updateModelConfig', { id: modelGid(MODEL.gpt), displayName: 'GPT-5', outputPricePerMillionTokens: '9.5', inputPricePerMillionTokens: null, compressionThreshold: 0 });
    expect(r.modelConfig).toMatchObject({
      displayName: 'GPT-5', provider: 'openai', model: 'gpt', contextLimit: '100000', compressionThreshold: 0, enabled: true,
      pricing: { inputPricePerMillionTokens: null, outputPricePerMillionTokens: '9.5', cacheReadPricePerMillionTokens: '0.5', cacheWritePricePerMillionTokens: null },
    });
    const moved = await call('updateModelConfig', { id: modelGid(MODEL.gpt), isDefault: true });
    expect(moved.modelConfig.isDefault).toBe(true);
    expect(await defaults()).toEqual([MODEL.gpt]);
    const unset = await call('updateModelConfig', { id: modelGid(MODEL.gpt), isDefault: false });
    expect(unset.modelConfig.isDefault).toBe(false);
    expect(await defaults()).toEqual([]);
  });

  it('deleteModelConfig is soft: history still names the config, lists and new turns do not', async () => {
    const chat = await insertChat(t.db, alice.user.id, { model: MODEL.gpt });
    await insertMessage(t.db, chat, { role: 'assistant', model: MODEL.gpt });
    const r = await call('deleteModelConfig', { id: modelGid(MODEL.gpt) });
    expect(r.modelConfig).toMatchObject({ deleted: true, isDefault: false });
    expect(await t.db.one('SELECT deleted, deleted_at, is_default FROM chat_model_configs WHERE id = $1', [MODEL.gpt])).toMatchObject({ deleted: true, is_default: false, deleted_at: expect.any(Date) });
    expect(await t.db.one('SELECT model_config_id FROM chat_messages WHERE chat_id = $1', [chat])).toEqual({ model_config_id: MODEL.gpt });
    const list = await server.gql<any>('{ modelConfigs(includeDisabled: true) { id } }', {}, alice.token);
    expect(list.data.modelConfigs.map((c: any) => c.id)).not.toContain(modelGid(MODEL.gpt));
    const explicit = await createChat({ modelConfigId: modelGid(MODEL.gpt) });
    expect(explicit).toMatchObject({ __typename: 'InvalidModelConfigError', message: expect.stringContaining('deleted') });
    // Deleted configs are gone for the admin mutations too.
    for (const [mutation, input] of [['deleteModelConfig', {}], ['updateModelConfig', { displayName: 'x' }], ['setDefaultModelConfig', {}]] as const) {
      expect((await call(mutation, { id: modelGid(MODEL.gpt), ...input })).__typename).toBe('NotFoundError');
    }
  });

  it('setDefaultModelConfig moves the default atomically, even when admins race', async () => {
    const r = await call('setDefaultModelConfig', { id: modelGid(MODEL.free) });
    expect(r.modelConfig.isDefault).toBe(true);
    expect(await defaults()).toEqual([MODEL.free]);
    const priced = await server.gql<any>(`query ($id: ID!) { node(id: $id) { ... on ChatModelConfig { isDefault } } }`, { id: modelGid(MODEL.priced) }, admin.token);
    expect(priced.data.node.isDefault).toBe(false);

    for (let round = 0; round < 5; round++) {
      const ids = [MODEL.priced, MODEL.gpt, MODEL.free, MODEL.unpriced];
      const results = await Promise.all(ids.map((id) => call('setDefaultModelConfig', { id: modelGid(id) })));
      for (const result of results) expect(result.__typename).toBe('ChatModelConfigPayload');
      const now = await defaults();
      expect(now).toHaveLength(1);
      expect(ids).toContain(now[0]);
    }
  });

  it('deleting or disabling the default is allowed, and then sends without a model fail with "no default"', async () => {
    const chat = (await createChat()).chat;
    expect(chat.lastModelConfig.id).toBe(modelGid(MODEL.priced));

    for (const action of ['disable', 'delete'] as const) {
      const r = action === 'disable'
        ? await call('updateModelConfig', { id: modelGid(MODEL.priced), enabled: false })
        : await call('deleteModelConfig', { id: modelGid(MODEL.priced) });
      expect(r.__typename).toBe('ChatModelConfigPayload');

      const before = await t.db.one('SELECT (SELECT count(*) FROM chats)::int AS chats, (SELECT count(*) FROM chat_messages)::int AS messages');
      const created = await createChat();
      expect(created).toMatchObject({ __typename: 'InvalidModelConfigError', message: expect.stringMatching(/no default/i) });
      // The chat's last model is the unusable default too, so the fallback ends at "no default".
      const sent = await server.gql<any>(SEND, { input: { chatId: chat.id, content: [{ type: 'TEXT', text: 'x' }] } }, alice.token);
      expect(sent.data.sendChatMessage).toMatchObject({ __typename: 'InvalidModelConfigError', message: expect.stringMatching(/no default/i) });
      expect(await t.db.one('SELECT (SELECT count(*) FROM chats)::int AS chats, (SELECT count(*) FROM chat_messages)::int AS messages')).toEqual(before);
      // An explicit model still works.
      expect((await createChat({ modelConfigId: modelGid(MODEL.gpt) })).__typename).toBe('ChatMessagePayload');
      await t.db.none('UPDATE chat_model_configs SET enabled = true, deleted = false, deleted_at = NULL, is_default = (id = $1)', [MODEL.priced]);
    }
  });

  it('every rejected call writes nothing', async () => {
    const cases: Array<[string, Record<string, unknown>, string, string | undefined, string?]> = [
      // wrong scope: user, worker, and an admin user whose token lacks the admin scope
      ['createModelConfig', { provider: 'x', model: 'y', contextLimit: '1' }, 'ForbiddenError', undefined, 'user'],
      ['createModelConfig', { provider: 'x', model: 'y', contextLimit: '1' }, 'ForbiddenError', undefined, 'worker'],
      ['setDefaultModelConfig', { id: modelGid(MODEL.gpt) }, 'ForbiddenError', undefined, 'adminUser'],
      ['deleteModelConfig', { id: modelGid(MODEL.priced) }, 'ForbiddenError', undefined, 'user'],
      ['updateModelConfig', { id: modelGid(MODEL.priced), displayName: 'x' }, 'ForbiddenError', undefined, 'worker'],
      // bad prices and numbers
      ...(['-1', 'abc', '1e5', '1.2.3', ' 1', '1.', '.5', '1234567890123', '0.1234567890123', ''].map(
        (price) => ['createModelConfig', { provider: 'x', model: 'y', contextLimit: '1', inputPricePerMillionTokens: price }, 'ValidationError', 'inputPricePerMillionTokens'] as [string, Record<string, unknown>, string, string],
      )),
      ['updateModelConfig', { id: modelGid(MODEL.priced), cacheWritePricePerMillionTokens: '-0.5' }, 'ValidationError', 'cacheWritePricePerMillionTokens'],
      ['createModelConfig', { provider: 'x', model: 'y', contextLimit: '0' }, 'ValidationError', 'contextLimit'],
      ['createModelConfig', { provider: 'x', model: 'y', contextLimit: '-5' }, 'ValidationError', 'contextLimit'],
      ['createModelConfig', { provider: ' ', model: 'y', contextLimit: '1' }, 'ValidationError', 'provider'],
      ['createModelConfig', { provider: 'x', model: 'y'.repeat(201), contextLimit: '1' }, 'ValidationError', 'model'],
      ['createModelConfig', { provider: 'x', model: 'y', contextLimit: '1', compressionThreshold: 101 }, 'ValidationError', 'compressionThreshold'],
      ['createModelConfig', { provider: 'x', model: 'y', contextLimit: '1', isDefault: true, enabled: false }, 'ValidationError', 'isDefault'],
      ['updateModelConfig', { id: modelGid(MODEL.priced), compressionThreshold: -1 }, 'ValidationError', 'compressionThreshold'],
      ['updateModelConfig', { id: modelGid(MODEL.priced) }, 'ValidationError', 'input'],
      ['updateModelConfig', { id: modelGid(MODEL.gpt), isDefault: true, enabled: false }, 'ValidationError', 'isDefault'],
      // unknown ids and wrong id types
      ['updateModelConfig', { id: modelGid('30000000-0000-4000-8000-000000000000'), displayName: 'x' }, 'NotFoundError', undefined],
      ['deleteModelConfig', { id: modelGid('30000000-0000-4000-8000-000000000000') }, 'NotFoundError', undefined],
      ['setDefaultModelConfig', { id: modelGid('30000000-0000-4000-8000-000000000000') }, 'NotFoundError', undefined],
      ['setDefaultModelConfig', { id: encodeGlobalID('Chat', MODEL.gpt) }, 'ValidationError', 'id'],
      ['deleteModelConfig', { id: 'garbage' }, 'ValidationError', 'id'],
      ['updateModelConfig', { id: encodeGlobalID('ChatModelConfig', 'not-a-uuid'), displayName: 'x' }, 'ValidationError', 'id'],
    ];
    // A disabled config cannot become the default either.
    await t.db.none('UPDATE chat_model_configs SET enabled = false WHERE id = $1', [MODEL.unpriced]);
    cases.push(['setDefaultModelConfig', { id: modelGid(MODEL.unpriced) }, 'ValidationError', 'isDefault']);

    const tokens: Record<string, string> = { user: alice.token, worker: worker.token, adminUser: adminUserToken.token };
    const before = await snapshot();
    for (const [mutation, input, typename, field, who] of cases) {
      const r = await call(mutation, input, who ? tokens[who] : admin.token);
      expect(r.__typename, `${mutation} ${JSON.stringify(input)}`).toBe(typename);
      if (field) expect(r.field, `${mutation} ${JSON.stringify(input)}`).toBe(field);
      expect(await snapshot(), `${mutation} ${JSON.stringify(input)}`).toEqual(before);
    }
    // Schema-level rejections (wrong scalar) never reach a resolver either.
    const res = await server.gql(`mutation { createModelConfig(input: { provider: "x", model: "y", contextLimit: "ten" }) { __typename } }`, {}, admin.token);
    expect(res.errors?.[0]?.message).toMatch(/BigInt/);
    expect(await snapshot()).toEqual(before);
  });
});
