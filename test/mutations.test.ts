import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/index.js';
import { encodeGlobalID } from '../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels, MODEL } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const gid = (type: string, id: string) => encodeGlobalID(type, id);
const text = (t: string) => [{ type: 'TEXT', text: t }];

/** Every mutation result selects the union's __typename, the error message and the payload. */
// Error.message (String) and the payloads' `message` (ChatMessage) clash in one selection: alias it.
const RESULT = '__typename ... on Error { error: message } ... on ValidationError { field }';
const CHAT = 'chat { id status lastError archived title labels pinOrder hasUnread lastModelConfig { model } queuedMessages { databaseId modelConfig { model } parts { ... on ChatTextPart { text } } } }';

describe('user mutations', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let admin: TestUser;

  async function call(name: string, input: Record<string, unknown>, payload: string, token = alice.token) {
    const res = await server.gql<Record<string, any>>(`mutation($input: ${name[0]!.toUpperCase()}${name.slice(1)}Input!) { ${name}(input: $input) { ${RESULT} ${payload} } }`, { input }, token);
    expect(res.errors).toBeUndefined();
    return res.data![name];
  }

  /** Row counts of every table a chat mutation may write. */
  async function snapshot() {
    return t.db.one(`SELECT (SELECT count(*) FROM chats)::int AS chats,
      (SELECT count(*) FROM chat_messages)::int AS messages, (SELECT count(*) FROM chat_messages WHERE deleted)::int AS deleted,
      (SELECT count(*) FROM chat_queued_messages)::int AS queued,
      (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM chats c) AS chats_hash`);
  }

  async function expectNothingWritten(action: () => Promise<unknown>) {
    const before = await snapshot();
    await action();
    expect(await snapshot()).toEqual(before);
  }

  const create = (content = text('hello'), extra: Record<string, unknown> = {}, token = alice.token) =>
    call('createChat', { content, ...extra }, `... on InvalidModelConfigError { modelConfigId } ... on ChatMessagePayload { ${CHAT} message { databaseId role createdBy { username } modelConfig { model } } }`, token);
  const send = (chatId: string, content = text('more'), extra: Record<string, unknown> = {}, token = alice.token) =>
    call('sendChatMessage', { chatId, content, ...extra }, `... on QueueFullError { limit } ... on SendChatMessagePayload { queued ${CHAT} message { databaseId modelConfig { model } } queuedMessage { databaseId modelConfig { model } } }`, token);

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db, { username: 'alice' });
    bob = await makeUser(t.db, { username: 'bob' });
    admin = await makeUser(t.db, { username: 'root', admin: true });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  describe('createChat', () => {
    it('creates a pending chat and its first user message with the default model', async () => {
      const r = await create(text('Fix the build'), { title: '  Build  ', labels: { repo: 'web' } });
      expect(r).toMatchObject({
        __typename: 'ChatMessagePayload',
        chat: { status: 'PENDING', title: 'Build', labels: { repo: 'web' }, lastModelConfig: { model: 'claude' }, archived: false },
        message: { role: 'USER', createdBy: { username: 'alice' }, modelConfig: { model: 'claude' } },
      });
      const stored = await t.db.one('SELECT content, content_version FROM chat_messages WHERE id = $1', [r.message.databaseId]);
      expect(stored).toEqual({ content: [{ type: 'text', text: 'Fix the build' }], content_version: 1 });
    });

    it('uses an explicit model config', async () => {
      const r = await create(text('x'), { modelConfigId: gid('ChatModelConfig', MODEL.gpt) });
      expect(r.chat.lastModelConfig.model).toBe('gpt');
      expect(r.message.modelConfig.model).toBe('gpt');
    });

    it.each([
      ['an unknown config', () => gid('ChatModelConfig', '99999999-0000-4000-8000-000000000000'), 'InvalidModelConfigError', /does not exist/],
      ['a malformed id', () => 'garbage', 'ValidationError', /modelConfigId/],
      ['an id of another type', () => gid('Chat', MODEL.gpt), 'ValidationError', /ChatModelConfig/],
    ])('rejects %s and writes nothing', async (_n, id, type, message) => {
      await expectNothingWritten(async () => {
        const r = await create(text('x'), { modelConfigId: id() });
        expect(r).toMatchObject({ __typename: type, error: expect.stringMatching(message) });
      });
    });

    it('rejects a disabled or deleted config', async () => {
      await t.db.none('UPDATE chat_model_configs SET enabled = false WHERE id = $1', [MODEL.free]);
      await expectNothingWritten(async () => {
        expect(await create(text('x'), { modelConfigId: gid('ChatModelConfig', MODEL.free) })).toMatchObject({ __typename: 'InvalidModelConfigError', error: expect.stringMatching(/disabled/) });
      });
      await t.db.none('UPDATE chat_model_configs SET enabled = true WHERE id = $1', [MODEL.free]);
    });

    it.each([
      ['empty content', [], /at least one part/],
      ['blank text', text('   '), /non-empty text/],
      ['oversized content', text('x'.repeat(300 * 1024)), /limit is 262144/],
      ['too many parts', Array.from({ length: 51 }, () => ({ type: 'TEXT', text: 'a' })), /limit is 50/],
      ['an incomplete file reference', [{ type: 'FILE_REFERENCE', fileName: 'a.ts' }], /FILE_REFERENCE/],
    ])('rejects %s with ValidationError and writes nothing', async (_n, content, message) => {
      await expectNothingWritten(async () => {
        expect(await create(content as never)).toMatchObject({ __typename: 'ValidationError', error: expect.stringMatching(message) });
      });
    });

    it('rejects bad labels, titles and workspace ids', async () => {
      await expectNothingWritten(async () => {
        expect((await create(text('x'), { labels: ['a'] })).__typename).toBe('ValidationError');
        expect((await create(text('x'), { labels: { n: 1 } })).__typename).toBe('ValidationError');
        expect((await create(text('x'), { title: 'x'.repeat(201) })).__typename).toBe('ValidationError');
        expect(await create(text('x'), { workspaceId: 'nope' })).toMatchObject({ __typename: 'ValidationError', field: 'workspaceId' });
      });
    });

    it('without a token answers UNAUTHENTICATED and writes nothing', async () => {
      await expectNothingWritten(async () => {
        const res = await server.gql('mutation { createChat(input: { content: [{ type: TEXT, text: "x" }] }) { __typename } }');
        expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      });
    });
  });

  describe('sendChatMessage', () => {
    let chatId: string;
    beforeEach(async () => {
      chatId = await insertChat(t.db, alice.user.id, { status: 'waiting' });
    });

    it('an idle chat gets the message and goes pending', async () => {
      const r = await send(gid('Chat', chatId));
      expect(r).toMatchObject({ __typename: 'SendChatMessagePayload', queued: false, queuedMessage: null, chat: { status: 'PENDING' }, message: { modelConfig: { model: 'claude' } } });
    });

    it('a busy chat queues with the resolved model; a chat at rest with a queue promotes the oldest first (FIFO)', async () => {
      await send(gid('Chat', chatId));
      const q1 = await send(gid('Chat', chatId), text('second'), { modelConfigId: gid('ChatModelConfig', MODEL.gpt) });
      expect(q1).toMatchObject({ queued: true, message: null, queuedMessage: { modelConfig: { model: 'gpt' } }, chat: { status: 'PENDING', lastModelConfig: { model: 'claude' } } });
      await t.db.none("UPDATE chats SET status = 'error', last_error = 'x' WHERE id = $1", [chatId]);
      const q2 = await send(gid('Chat', chatId), text('third'));
      expect(q2).toMatchObject({ queued: true, queuedMessage: { modelConfig: { model: 'claude' } }, chat: { status: 'PENDING', lastModelConfig: { model: 'gpt' } } });
      expect(q2.chat.queuedMessages.map((q: any) => q.parts[0].text)).toEqual(['third']);
      const last = await t.db.one("SELECT content->0->>'text' AS text FROM chat_messages WHERE chat_id = $1 ORDER BY id DESC LIMIT 1", [chatId]);
      expect(last.text).toBe('second');
    });

    it('a per-turn model switch moves lastModelConfig', async () => {
      const r = await send(gid('Chat', chatId), text('use gpt'), { modelConfigId: gid('ChatModelConfig', MODEL.gpt) });
      expect(r.chat.lastModelConfig.model).toBe('gpt');
      expect(r.message.modelConfig.model).toBe('gpt');
      await t.db.none("UPDATE chats SET status = 'waiting' WHERE id = $1", [chatId]);
      // No explicit model: the chat's last model is used.
      expect((await send(gid('Chat', chatId))).message.modelConfig.model).toBe('gpt');
    });

    it('the 21st queued message is QueueFullError and writes nothing', async () => {
      await t.db.none("UPDATE chats SET status = 'running' WHERE id = $1", [chatId]);
      for (let i = 0; i < 20; i++) expect((await send(gid('Chat', chatId), text(`q${i}`))).queued).toBe(true);
      await expectNothingWritten(async () => {
        expect(await send(gid('Chat', chatId), text('one too many'))).toMatchObject({ __typename: 'QueueFullError', limit: 20 });
      });
    });

    it('archived → ChatArchivedError; unknown model → InvalidModelConfigError; nothing written', async () => {
      await expectNothingWritten(async () => {
        expect(await send(gid('Chat', chatId), text('x'), { modelConfigId: gid('ChatModelConfig', '99999999-0000-4000-8000-000000000000') })).toMatchObject({ __typename: 'InvalidModelConfigError' });
      });
      await t.db.none('UPDATE chats SET archived = true WHERE id = $1', [chatId]);
      await expectNothingWritten(async () => {
        expect((await send(gid('Chat', chatId))).__typename).toBe('ChatArchivedError');
      });
    });

    it("someone else's chat: NotFoundError for users, ForbiddenError for admins; nothing written", async () => {
      await expectNothingWritten(async () => {
        expect((await send(gid('Chat', chatId), text('x'), {}, bob.token)).__typename).toBe('NotFoundError');
        expect((await send(gid('Chat', chatId), text('x'), {}, admin.token)).__typename).toBe('ForbiddenError');
        expect((await send(gid('Chat', '99999999-0000-4000-8000-000000000000'))).__typename).toBe('NotFoundError');
        expect((await send(gid('ChatMessage', '1'))).__typename).toBe('ValidationError');
      });
    });

    it('no usable model at all → InvalidModelConfigError "no default"', async () => {
      await t.db.none('UPDATE chat_model_configs SET enabled = false');
      try {
        await expectNothingWritten(async () => {
          expect(await send(gid('Chat', chatId))).toMatchObject({ __typename: 'InvalidModelConfigError', error: expect.stringMatching(/No default model config/) });
        });
      } finally {
        await t.db.none('UPDATE chat_model_configs SET enabled = true');
      }
    });

    it('a send after an error clears last_error (the status and errors rule)', async () => {
      await t.db.none("UPDATE chats SET status = 'error', last_error = 'boom' WHERE id = $1", [chatId]);
      const r = await send(gid('Chat', chatId));
      expect(r.chat).toMatchObject({ status: 'PENDING', lastError: null });
    });

    it('two sends racing on one idle chat: exactly one direct message and one queued', async () => {
      for (let round = 0; round < 5; round++) {
        const id = await insertChat(t.db, alice.user.id, { status: 'waiting' });
        const results = await Promise.all([send(gid('Chat', id), text('a')), send(gid('Chat', id), text('b'))]);
        expect(results.map((r) => r.queued).sort()).toEqual([false, true]);
        const counts = await t.db.one('SELECT (SELECT count(*) FROM chat_messages WHERE chat_id = $1)::int AS m, (SELECT count(*) FROM chat_queued_messages WHERE chat_id = $1)::int AS q', [id]);
        expect(counts).toEqual({ m: 1, q: 1 });
      }
    });
  });

  describe('hot path (the message insert hot path rule)', () => {
    it('a same-model insert leaves the chats row untouched; a model switch rewrites it', async () => {
      const chatId = await insertChat(t.db, alice.user.id, { model: MODEL.priced });
      const xmin = async () => (await t.db.one('SELECT xmin::text AS x, last_model_config_id AS m FROM chats WHERE id = $1', [chatId]));
      const before = await xmin();
      const row = { role: 'assistant' as const, visibility: 'both' as const, content: [{ type: 'text', text: 'hi' }], model_config_id: MODEL.priced, created_by: null };
      const inserted = await t.db.messages.insert(chatId, [row, row], MODEL.priced);
      expect(inserted).toHaveLength(2);
      expect(await xmin()).toEqual(before);
      await t.db.messages.insert(chatId, [{ ...row, model_config_id: MODEL.gpt }], MODEL.gpt);
      const after = await xmin();
      expect(after.m).toBe(MODEL.gpt);
      expect(after.x).not.toBe(before.x);
    });
  });

  describe('queue, edit, interrupt, update', () => {
    it('promote uses the stored model, falls back when it was deleted, and sets pending', async () => {
      const chatId = await insertChat(t.db, alice.user.id, { status: 'running', model: MODEL.priced });
      const a = await send(gid('Chat', chatId), text('a'), { modelConfigId: gid('ChatModelConfig', MODEL.gpt) });
      const b = await send(gid('Chat', chatId), text('b'), { modelConfigId: gid('ChatModelConfig', MODEL.unpriced) });
      const promote = (q: string) =>
        call('promoteQueuedMessage', { chatId: gid('Chat', chatId), queuedMessageId: gid('ChatQueuedMessage', q) }, `... on ChatMessagePayload { ${CHAT} message { modelConfig { model } parts { ... on ChatTextPart { text } } } }`);
      const p1 = await promote(b.queuedMessage.databaseId);
      expect(p1).toMatchObject({ chat: { status: 'PENDING', lastModelConfig: { model: 'exp' } }, message: { modelConfig: { model: 'exp' }, parts: [{ text: 'b' }] } });
      await t.db.none('UPDATE chat_model_configs SET deleted = true WHERE id = $1', [MODEL.gpt]);
      try {
        const p2 = await promote(a.queuedMessage.databaseId);
        expect(p2.message.modelConfig.model).toBe('exp'); // stored gpt deleted → chat's last model
        expect(p2.chat.queuedMessages).toEqual([]);
      } finally {
        await t.db.none('UPDATE chat_model_configs SET deleted = false WHERE id = $1', [MODEL.gpt]);
      }
      await expectNothingWritten(async () => {
        expect((await promote(a.queuedMessage.databaseId)).__typename).toBe('NotFoundError');
      });
    });

    it('deleteQueuedMessage removes one queued message; unknown ids are NotFoundError', async () => {
      const chatId = await insertChat(t.db, alice.user.id, { status: 'running' });
      const q = await send(gid('Chat', chatId), text('later'));
      const del = (id: string, token = alice.token) =>
        call('deleteQueuedMessage', { chatId: gid('Chat', chatId), queuedMessageId: gid('ChatQueuedMessage', id) }, `... on ChatPayload { ${CHAT} }`, token);
      await expectNothingWritten(async () => expect((await del(q.queuedMessage.databaseId, bob.token)).__typename).toBe('NotFoundError'));
      expect((await del(q.queuedMessage.databaseId)).chat.queuedMessages).toEqual([]);
      expect((await del(q.queuedMessage.databaseId)).__typename).toBe('NotFoundError');
    });

    it('edit soft-deletes the message and everything after it, inserts the replacement, clears the queue', async () => {
      const chatId = await insertChat(t.db, alice.user.id, { status: 'waiting' });
      const m1 = await insertMessage(t.db, chatId, { role: 'user', text: 'first' });
      const a1 = await insertMessage(t.db, chatId, { role: 'assistant', text: 'answer 1' });
      const m2 = await insertMessage(t.db, chatId, { role: 'user', text: 'second', model: MODEL.gpt });
      await insertMessage(t.db, chatId, { role: 'assistant', text: 'answer 2' });
      await t.db.none("INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, '[]')", [chatId]);
      const edit = (messageId: string, content = text('second, better')) =>
        call('editChatMessage', { chatId: gid('Chat', chatId), messageId: gid('ChatMessage', messageId), content }, `... on ChatMessagePayload { ${CHAT} message { modelConfig { model } } }`);
      await expectNothingWritten(async () => {
        expect(await edit(a1)).toMatchObject({ __typename: 'ValidationError', error: 'Only user messages can be edited' });
        expect((await edit('999999999')).__typename).toBe('NotFoundError');
        expect((await edit(m2, [])).__typename).toBe('ValidationError');
      });
      const r = await edit(m2);
      expect(r).toMatchObject({ chat: { status: 'PENDING', queuedMessages: [] }, message: { modelConfig: { model: 'gpt' } } });
      const rows = await t.db.any('SELECT id, deleted, content->0->>\'text\' AS text FROM chat_messages WHERE chat_id = $1 ORDER BY id', [chatId]);
      expect(rows.map((x) => [x.text, x.deleted])).toEqual([['first', false], ['answer 1', false], ['second', true], ['answer 2', true], ['second, better', false]]);
      expect(rows[0].id).toBe(m1);
    });

    it('interrupt: running → waiting, clears the worker; a waiting chat cannot be interrupted', async () => {
      const chatId = await insertChat(t.db, alice.user.id, { status: 'running' });
      await t.db.none("UPDATE chats SET worker_id = 'w1' WHERE id = $1", [chatId]);
      const interrupt = () => call('interruptChat', { chatId: gid('Chat', chatId) }, `... on ChatPayload { ${CHAT} }`);
      expect((await interrupt()).chat.status).toBe('WAITING');
      expect((await t.db.one('SELECT worker_id FROM chats WHERE id = $1', [chatId])).worker_id).toBeNull();
      await expectNothingWritten(async () => expect(await interrupt()).toMatchObject({ __typename: 'ValidationError', error: expect.stringMatching(/waiting/) }));
    });

    it('updateChat sets title, labels and pin order; empty or bad input is rejected', async () => {
      const chatId = await insertChat(t.db, alice.user.id);
      const update = (input: Record<string, unknown>) => call('updateChat', { chatId: gid('Chat', chatId), ...input }, `... on ChatPayload { ${CHAT} }`);
      expect((await update({ title: 'Renamed', labels: { a: 'b' }, pinOrder: 3 })).chat).toMatchObject({ title: 'Renamed', labels: { a: 'b' }, pinOrder: 3 });
      await expectNothingWritten(async () => {
        expect((await update({})).__typename).toBe('ValidationError');
        expect((await update({ pinOrder: -1 })).__typename).toBe('ValidationError');
        expect((await update({ title: '' })).__typename).toBe('ValidationError');
      });
    });

    it('markChatRead clears hasUnread without reordering the list', async () => {
      const chatId = await insertChat(t.db, alice.user.id);
      await insertMessage(t.db, chatId, { role: 'assistant', text: 'new' });
      const before = await t.db.one('SELECT updated_at FROM chats WHERE id = $1', [chatId]);
      const r = await call('markChatRead', { chatId: gid('Chat', chatId) }, `... on ChatPayload { ${CHAT} }`);
      expect(r.chat.hasUnread).toBe(false);
      expect((await t.db.one('SELECT updated_at FROM chats WHERE id = $1', [chatId])).updated_at).toEqual(before.updated_at);
      await expectNothingWritten(async () => {
        const other = await call('markChatRead', { chatId: gid('Chat', chatId), messageId: gid('ChatMessage', '999999999') }, `... on ChatPayload { ${CHAT} }`);
        expect(other.__typename).toBe('NotFoundError');
      });
    });
  });

  describe('archive (the archive rule)', () => {
    it('archives the family in one statement, resets running members, blocks writes; unarchive rules', async () => {
      const root = await insertChat(t.db, alice.user.id, { status: 'running' });
      const child = await insertChat(t.db, alice.user.id, { parent: root, status: 'pending' });
      const done = await insertChat(t.db, alice.user.id, { parent: root, status: 'completed' });
      const archive = (id: string, name = 'archiveChat') =>
        call(name, { chatId: gid('Chat', id) }, '... on ChatFamilyPayload { chat { id status archived } changedChats { id status archived } }');
      const r = await archive(root);
      expect(r.chat).toMatchObject({ archived: true, status: 'WAITING' });
      expect(r.changedChats).toHaveLength(3);
      const rows = await t.db.any('SELECT id, status, archived FROM chats WHERE id = ANY($1::uuid[]) ORDER BY id', [[root, child, done]]);
      expect(rows.every((x) => x.archived)).toBe(true);
      expect(Object.fromEntries(rows.map((x) => [x.id, x.status]))).toEqual({ [root]: 'waiting', [child]: 'waiting', [done]: 'completed' });
      expect((await archive(root)).changedChats).toEqual([]); // idempotent

      await expectNothingWritten(async () => {
        expect((await send(gid('Chat', child))).__typename).toBe('ChatArchivedError');
        expect((await archive(child, 'unarchiveChat')).__typename).toBe('ChatArchivedError');
      });
      const back = await archive(root, 'unarchiveChat');
      expect(back.changedChats).toHaveLength(3);
      expect(back.chat.archived).toBe(false);
      // A child alone can be archived and unarchived while its parent is live.
      expect((await archive(child)).changedChats.map((c: any) => c.id)).toEqual([gid('Chat', child)]);
      expect((await archive(child, 'unarchiveChat')).chat.archived).toBe(false);
    });
  });

  describe('scopes and typed errors', () => {
    it('a worker-only token cannot use user mutations on chats it does not own', async () => {
      const worker = await makeUser(t.db, { username: 'w', scopes: ['worker'] });
      const chatId = await insertChat(t.db, alice.user.id);
      await expectNothingWritten(async () => {
        expect((await send(gid('Chat', chatId), text('x'), {}, worker.token)).__typename).toBe('ForbiddenError');
      });
    });

    it('database failures are masked: no SQL text reaches the client', async () => {
      // A second pool breaks the chats table for a moment by locking it with a short lock_timeout.
      const other = createDb(t.url, 1);
      const chatId = await insertChat(t.db, alice.user.id);
      try {
        await other.tx(async (tx) => {
          await tx.none('LOCK TABLE chat_queued_messages IN ACCESS EXCLUSIVE MODE');
          await t.db.none("ALTER DATABASE $1:name SET lock_timeout = '200ms'", [t.name]);
          const fresh = await startTestServer(createDb(t.url, 2));
          try {
            const res = await fresh.gql<any>(`mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { __typename } }`, { i: { chatId: gid('Chat', chatId), content: text('x') } }, alice.token);
            expect(res.errors?.[0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
            expect(JSON.stringify(res)).not.toMatch(/lock|chat_queued_messages|timeout/i);
          } finally {
            await fresh.stop();
          }
        });
      } finally {
        await t.db.none('ALTER DATABASE $1:name RESET lock_timeout', [t.name]);
        await other.$pool.end();
      }
    });
  });
});
