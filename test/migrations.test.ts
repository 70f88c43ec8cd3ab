import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, migrationsDir } from '../src/db/migrate.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

describe('migrations', () => {
  let empty: TestDatabase;
  beforeAll(async () => {
    empty = await createTestDatabase({ template: false });
  });
  afterAll(async () => {
    await empty.close();
  });

  it('apply every file on an empty database, concurrently from two runners, exactly once', async () => {
    const files = await loadMigrations();
    const [a, b] = await Promise.all([migrate(empty.db), migrate(empty.db)]);
    // The advisory lock lets exactly one runner apply; the other finds nothing pending.
    expect([...a, ...b].sort()).toEqual(files.map((f) => f.name));
    const tables = await empty.db.map(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      [],
      (r: { table_name: string }) => r.table_name,
    );
    expect(tables).toEqual([
      'api_tokens', 'chat_cost_daily_chats', 'chat_cost_daily_models', 'chat_diff_statuses', 'chat_events', 'chat_events_pruned', 'chat_messages', 'chat_model_configs',
      'chat_queued_messages', 'chats', 'schema_migrations', 'users',
    ]);
    const enums = await empty.db.map("SELECT typname FROM pg_type WHERE typtype = 'e' ORDER BY 1", [], (r: { typname: string }) => r.typname);
    expect(enums).toEqual(expect.arrayContaining(['chat_message_role', 'chat_message_visibility', 'chat_status']));
    const index = await empty.db.oneOrNone("SELECT indexdef FROM pg_indexes WHERE indexname = 'chats_owner_updated_idx'");
    expect(index?.indexdef).toContain('(owner_id, updated_at DESC, id DESC)');
    const comment = await empty.db.one("SELECT obj_description('chats'::regclass) AS c");
    expect(comment.c).toMatch(/chats/i);
  });

  it('are idempotent: a second run applies nothing', async () => {
    expect(await migrate(empty.db)).toEqual([]);
  });

  it('refuse to run when a landed migration was edited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-mig-'));
    cpSync(migrationsDir, dir, { recursive: true });
    const first = join(dir, '0001_initial.sql');
    writeFileSync(first, `${readFileSync(first, 'utf8')}\n-- edited\n`);
    await expect(migrate(empty.db, dir)).rejects.toThrow(/edited after it was applied/);
  });

  it('enforce the data model constraints', async () => {
    const db = empty.db;
    await db.none("INSERT INTO chat_model_configs (provider, model, context_limit, is_default) VALUES ('p', 'a', 10, true)");
    await expect(db.none("INSERT INTO chat_model_configs (provider, model, context_limit, is_default) VALUES ('p', 'b', 10, true)")).rejects.toThrow(/chat_model_configs_one_default_idx/);
    await expect(db.none("INSERT INTO chat_model_configs (provider, model, context_limit) VALUES ('p', 'c', 0)")).rejects.toThrow(/check/i);
    await expect(db.none("INSERT INTO chat_model_configs (provider, model, context_limit, compression_threshold) VALUES ('p', 'c', 5, 101)")).rejects.toThrow(/check/i);
  });
});
