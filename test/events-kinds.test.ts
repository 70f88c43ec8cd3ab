import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/index.js';
import { CHAT_EVENT_KINDS, MODEL_CONFIG_EVENT_KINDS } from '../src/events/log.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModelConfig, insertUser } from './helpers/events.js';

// The stored kinds exist in three places: the trigger functions that write them, the CHECK
// constraint on chat_events.kind, and the TypeScript lists the pipeline maps to public kinds.
// These tests fail when any one of the three moves without the others.

let tdb: TestDatabase;
let db: Db;

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
});

afterAll(async () => {
  await tdb?.close();
});

const sorted = (values: Iterable<string>) => [...values].sort();

describe('stored event kinds', () => {
  it('the CHECK constraint allows exactly the TypeScript kinds', async () => {
    const { def } = await db.one<{ def: string }>(
      "SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'chat_events_kind_check'",
    );
    const literals = new Set([...def.matchAll(/'([a-z_]+)'::text/g)].map((m) => m[1]!));
    expect(sorted(literals)).toEqual(sorted([...CHAT_EVENT_KINDS, ...MODEL_CONFIG_EVENT_KINDS]));
  });

  it('the triggers emit every TypeScript kind, and nothing else', async () => {
    const owner = await insertUser(db);
    const modelA = await insertModelConfig(db);
    const modelB = await insertModelConfig(db);
    const before = await db.one<{ seq: string }>('SELECT coalesce(max(seq), 0)::text AS seq FROM chat_events');

    const chat = await insertChat(db, owner, modelA); // chat_created
    await db.none("UPDATE chats SET status = 'running', title = 'renamed', last_model_config_id = $2 WHERE id = $1", [chat, modelB]);
    const message = await insertMessage(db, chat); // message
    await db.none('UPDATE chat_messages SET deleted = true WHERE id = $1', [message]); // message_deleted
    await db.none("INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, '[]')", [chat]); // queue
    await db.none("INSERT INTO chat_diff_statuses (chat_id, url) VALUES ($1, 'https://example.test/pr/1')", [chat]); // diff_status
    await db.none('UPDATE chats SET archived = true WHERE id = $1', [chat]);
    await db.none('UPDATE chats SET archived = false WHERE id = $1', [chat]);
    const config = await insertModelConfig(db); // model_config_created
    await db.none("UPDATE chat_model_configs SET display_name = 'renamed' WHERE id = $1", [config]);
    await db.none('UPDATE chat_model_configs SET is_default = false WHERE is_default');
    await db.none('UPDATE chat_model_configs SET is_default = true WHERE id = $1', [config]);
    await db.none('UPDATE chat_model_configs SET deleted = true, deleted_at = now(), is_default = false WHERE id = $1', [config]);

    const emitted = await db.map('SELECT DISTINCT kind FROM chat_events WHERE seq > $1', [before.seq], (r: { kind: string }) => r.kind);
    expect(sorted(emitted)).toEqual(sorted([...CHAT_EVENT_KINDS, ...MODEL_CONFIG_EVENT_KINDS]));
  });

  it('a kind outside the list, or a chat kind without its chat, is refused and writes nothing', async () => {
    const count = () => db.one<{ n: number }>('SELECT count(*)::int AS n FROM chat_events').then((r) => r.n);
    const n = await count();
    await expect(db.none("INSERT INTO chat_events (kind, data) VALUES ('renamed', '{}')")).rejects.toThrow(/chat_events_kind_check/);
    await expect(db.none("INSERT INTO chat_events (kind, data) VALUES ('status', '{}')")).rejects.toThrow(/chat_events_kind_check/);
    expect(await count()).toBe(n);
  });
});
