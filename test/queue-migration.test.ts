import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrationsDir } from '../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertModels, MODEL } from './helpers/data.js';

const UNSTRAND = '0006_unstrand_queues.sql';

/** Chats stranded by earlier versions (idle with a queue) are run by the migration that fixes the rule. */
describe(`migration ${UNSTRAND}`, () => {
  let t: TestDatabase;
  let dir: string;
  let owner: string;

  beforeAll(async () => {
    t = await createTestDatabase({ template: false });
    dir = mkdtempSync(join(tmpdir(), 'chatgraph-migrations-'));
    for (const file of readdirSync(migrationsDir)) if (file < UNSTRAND) cpSync(join(migrationsDir, file), join(dir, file));
    await migrate(t.db, dir);
    await insertModels(t.db);
    owner = (await t.db.one("INSERT INTO users (username) VALUES ('legacy') RETURNING id")).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const enqueue = (chatId: string, text: string, model: string | null) =>
    t.db.none("INSERT INTO chat_queued_messages (chat_id, content, model_config_id, created_by) VALUES ($1, $2::jsonb, $3, $4)",
      [chatId, JSON.stringify([{ type: 'text', text }]), model, owner]);
  const queue = (chatId: string) => t.db.map("SELECT content->0->>'text' AS t FROM chat_queued_messages WHERE chat_id = $1 ORDER BY id", [chatId], (r) => r.t);
  const userMessages = (chatId: string) => t.db.any("SELECT content->0->>'text' AS text, model_config_id, created_by FROM chat_messages WHERE chat_id = $1 AND role = 'user' ORDER BY id", [chatId]);
  const chat = (id: string) => t.db.one('SELECT status, last_error, last_model_config_id FROM chats WHERE id = $1', [id]);

  it('runs the oldest queued message of every live idle chat, falls back for its model, and errs only without any usable model', async () => {
    const gone = '60000000-0000-4000-8000-0000000000dd';
    await t.db.none("INSERT INTO chat_model_configs (id, provider, model, context_limit, deleted, deleted_at) VALUES ($1, 'p', 'gone', 1000, true, now())", [gone]);
    const waiting = await insertChat(t.db, owner, { status: 'waiting' });
    await enqueue(waiting, 'first', MODEL.gpt);
    await enqueue(waiting, 'second', MODEL.gpt);
    const pausedFallback = await insertChat(t.db, owner, { status: 'paused', model: MODEL.gpt });
    await enqueue(pausedFallback, 'falls back', gone);
    const hopeless = await insertChat(t.db, owner, { status: 'paused', model: gone });
    await enqueue(hopeless, 'no model', gone);
    const untouched = [
      await insertChat(t.db, owner, { status: 'waiting', archived: true }),
      await insertChat(t.db, owner, { status: 'error', lastError: 'held' }),
      await insertChat(t.db, owner, { status: 'pending' }),
      await insertChat(t.db, owner, { status: 'requires_action' }),
    ];
    for (const id of untouched) await enqueue(id, 'stays', MODEL.gpt);
    const before = await t.db.any('SELECT * FROM chats WHERE id = ANY($1::uuid[]) ORDER BY id', [untouched]);
    // With the default disabled, the hopeless chat has no usable model at all.
    await t.db.none('UPDATE chat_model_configs SET enabled = false WHERE id = $1', [MODEL.priced]);

    cpSync(join(migrationsDir, UNSTRAND), join(dir, UNSTRAND));
    expect(await migrate(t.db, dir)).toEqual([UNSTRAND]);

    expect(await chat(waiting)).toMatchObject({ status: 'pending', last_error: null, last_model_config_id: MODEL.gpt });
    expect(await userMessages(waiting)).toEqual([{ text: 'first', model_config_id: MODEL.gpt, created_by: owner }]);
    expect(await queue(waiting)).toEqual(['second']);

    expect(await chat(pausedFallback)).toMatchObject({ status: 'pending', last_model_config_id: MODEL.gpt });
    expect(await userMessages(pausedFallback)).toEqual([{ text: 'falls back', model_config_id: MODEL.gpt, created_by: owner }]);

    expect(await chat(hopeless)).toMatchObject({ status: 'error', last_error: expect.stringMatching(/no usable model config/) });
    expect(await queue(hopeless)).toEqual(['no model']);
    expect(await userMessages(hopeless)).toEqual([]);

    expect(await t.db.any('SELECT * FROM chats WHERE id = ANY($1::uuid[]) ORDER BY id', [untouched])).toEqual(before);
    for (const id of untouched) expect(await queue(id)).toEqual(['stays']);
  });
});
