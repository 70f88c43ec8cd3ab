import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/index.js';
import { EVENTS_CHANNEL } from '../src/events/log.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModelConfig, insertUser } from './helpers/events.js';

// Every write here is plain SQL, as an external writer (psql, a migration, the worker) would do:
// the events come from the triggers, not from gateway code.

interface Change {
  kind: string;
  chat_id: string | null;
  owner_id: string | null;
  model_config_id: string | null;
  message_id: string | null;
  data: Record<string, unknown>;
}

let tdb: TestDatabase;
let db: Db;
let owner: string;
let modelA: string;
let modelB: string;

/** The events appended while `action` runs (this file has no other writers). */
async function eventsOf(action: () => Promise<unknown>): Promise<Change[]> {
  const { seq } = await db.one<{ seq: string }>('SELECT coalesce(max(seq), 0)::text AS seq FROM chat_events');
  await action();
  return db.any<Change>(
    `SELECT kind, chat_id, owner_id, model_config_id, message_id::text AS message_id, data
     FROM chat_events WHERE seq > $1 ORDER BY xid, seq`,
    [seq],
  );
}

const kinds = (changes: Change[]) => changes.map((c) => c.kind);

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
  owner = await insertUser(db);
  modelA = await insertModelConfig(db, { isDefault: true });
  modelB = await insertModelConfig(db);
});

afterAll(async () => {
  await tdb.close();
});

describe('chat triggers', () => {
  it('a new chat is chat_created with its owner; a child carries its root', async () => {
    let root = '';
    const created = await eventsOf(async () => (root = await insertChat(db, owner, modelA)));
    expect(created).toEqual([{ kind: 'chat_created', chat_id: root, owner_id: owner, model_config_id: null, message_id: null, data: { status: 'pending' } }]);

    let child = '';
    const childCreated = await eventsOf(async () => (child = await insertChat(db, owner, modelA, { rootId: root })));
    expect(childCreated).toMatchObject([{ kind: 'chat_created', chat_id: child, owner_id: owner, data: { root_chat_id: root } }]);
  });

  it('each watched column yields its kind, several in one update, and nothing else does', async () => {
    const chat = await insertChat(db, owner, modelA);

    expect(await eventsOf(() => db.none("UPDATE chats SET status = 'running' WHERE id = $1", [chat]))).toMatchObject([
      { kind: 'status', chat_id: chat, owner_id: owner, data: { status: 'running', previous: 'pending' } },
    ]);
    expect(kinds(await eventsOf(() => db.none("UPDATE chats SET title = 'Renamed' WHERE id = $1", [chat])))).toEqual(['title']);
    expect(await eventsOf(() => db.none('UPDATE chats SET last_model_config_id = $2 WHERE id = $1', [chat, modelB]))).toMatchObject([
      { kind: 'model_config', model_config_id: modelB, data: { from: modelA, to: modelB } },
    ]);
    expect(kinds(await eventsOf(() => db.none('UPDATE chats SET archived = true WHERE id = $1', [chat])))).toEqual(['chat_archived']);
    expect(kinds(await eventsOf(() => db.none('UPDATE chats SET archived = false WHERE id = $1', [chat])))).toEqual(['chat_unarchived']);

    // One statement changing four watched columns: four events, in a fixed order.
    expect(kinds(await eventsOf(() => db.none(
      "UPDATE chats SET status = 'error', last_error = 'boom', title = 'T2', last_model_config_id = $2, archived = true WHERE id = $1",
      [chat, modelA],
    )))).toEqual(['status', 'title', 'model_config', 'chat_archived']);

    // Heartbeats, read marks, labels, pins, timestamps, and writes of unchanged values: no events.
    expect(await eventsOf(async () => {
      await db.none("UPDATE chats SET heartbeat_at = now(), updated_at = now(), worker_id = 'w1' WHERE id = $1", [chat]);
      await db.none(`UPDATE chats SET labels = '{"a": "b"}', pin_order = 3, last_read_message_id = 7 WHERE id = $1`, [chat]);
      await db.none('UPDATE chats SET status = status, title = title, last_model_config_id = last_model_config_id, archived = archived WHERE id = $1', [chat]);
    })).toEqual([]);
  });

  it('archiving a family in one statement yields one event per member', async () => {
    const root = await insertChat(db, owner, modelA);
    const child = await insertChat(db, owner, modelA, { rootId: root });
    const changes = await eventsOf(() => db.none(
      "UPDATE chats SET archived = true, status = 'waiting' WHERE id = $1 OR root_chat_id = $1",
      [root],
    ));
    expect(changes.filter((c) => c.kind === 'chat_archived').map((c) => c.chat_id).sort()).toEqual([root, child].sort());
    expect(changes.filter((c) => c.kind === 'status')).toHaveLength(2);
    expect(changes.find((c) => c.chat_id === child && c.kind === 'chat_archived')?.data).toEqual({ root_chat_id: root });
  });
});

describe('message triggers', () => {
  /** The hot path of the message insert hot path rule: insert plus a model update that only happens on a change. */
  const sendWithModel = (chat: string, model: string) => db.none(
    `WITH msg AS (
       INSERT INTO chat_messages (chat_id, role, content, content_version, model_config_id)
       VALUES ($1, 'user', '[]', 1, $2) RETURNING chat_id, model_config_id)
     UPDATE chats c SET last_model_config_id = msg.model_config_id, updated_at = now()
     FROM msg WHERE c.id = msg.chat_id AND c.last_model_config_id IS DISTINCT FROM msg.model_config_id`,
    [chat, model],
  );

  it('an insert is a message event with the message id; a same-model send has no model_config event', async () => {
    const chat = await insertChat(db, owner, modelA);
    let id = '';
    const inserted = await eventsOf(async () => (id = await insertMessage(db, chat)));
    expect(inserted).toEqual([{ kind: 'message', chat_id: chat, owner_id: owner, model_config_id: null, message_id: id, data: { role: 'user' } }]);

    expect(kinds(await eventsOf(() => sendWithModel(chat, modelA)))).toEqual(['message']);
    expect(kinds(await eventsOf(() => sendWithModel(chat, modelB))).sort()).toEqual(['message', 'model_config']);
    expect(kinds(await eventsOf(() => sendWithModel(chat, modelB)))).toEqual(['message']);
  });

  it('a soft delete is message_deleted once per message; other updates are silent', async () => {
    const chat = await insertChat(db, owner, modelA);
    const ids = [await insertMessage(db, chat), await insertMessage(db, chat), await insertMessage(db, chat)];
    const deleted = await eventsOf(() => db.none('UPDATE chat_messages SET deleted = true WHERE chat_id = $1', [chat]));
    expect(deleted.map((c) => [c.kind, c.message_id])).toEqual(ids.map((id) => ['message_deleted', id]));
    expect(await eventsOf(async () => {
      await db.none('UPDATE chat_messages SET deleted = true WHERE chat_id = $1', [chat]);
      await db.none('UPDATE chat_messages SET compressed = true WHERE chat_id = $1', [chat]);
    })).toEqual([]);
  });

  it('a child chat message carries the root chat id', async () => {
    const root = await insertChat(db, owner, modelA);
    const child = await insertChat(db, owner, modelA, { rootId: root });
    const changes = await eventsOf(() => insertMessage(db, child));
    expect(changes).toMatchObject([{ kind: 'message', chat_id: child, data: { role: 'user', root_chat_id: root } }]);
  });
});

describe('queue triggers', () => {
  it('one queue event per chat per statement, and none when nothing changed', async () => {
    const chat = await insertChat(db, owner, modelA);
    const other = await insertChat(db, owner, modelA);
    expect(await eventsOf(() => db.none("INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, '[]')", [chat]))).toMatchObject([
      { kind: 'queue', chat_id: chat, owner_id: owner },
    ]);
    const many = await eventsOf(() => db.none(
      "INSERT INTO chat_queued_messages (chat_id, content) SELECT c, '[]' FROM unnest(ARRAY[$1, $2]::uuid[]) c, generate_series(1, 2)",
      [chat, other],
    ));
    expect(many.map((c) => c.chat_id).sort()).toEqual([chat, other].sort());

    expect(await eventsOf(() => db.none("UPDATE chat_queued_messages SET content = content WHERE chat_id = $1", [chat]))).toEqual([]);
    expect(kinds(await eventsOf(() => db.none(`UPDATE chat_queued_messages SET content = '["x"]' WHERE chat_id = $1`, [chat])))).toEqual(['queue']);

    // Clearing a queue of three rows is one event.
    expect(kinds(await eventsOf(() => db.none('DELETE FROM chat_queued_messages WHERE chat_id = $1', [chat])))).toEqual(['queue']);
    expect(await eventsOf(() => db.none('DELETE FROM chat_queued_messages WHERE chat_id = $1', [chat]))).toEqual([]);
  });
  it('each queue event records the ids it added, removed and updated, and the length after it (small queue events)', async () => {
    const chat = await insertChat(db, owner, modelA);
    const other = await insertChat(db, owner, modelA);
    const queued = (chatId: string) => db.map('SELECT id::text FROM chat_queued_messages WHERE chat_id = $1 ORDER BY id', [chatId], (r: { id: string }) => r.id);
    const [added] = await eventsOf(() => db.none("INSERT INTO chat_queued_messages (chat_id, content) SELECT $1, '[]' FROM generate_series(1, 3)", [chat]));
    const ids = await queued(chat);
    expect(added!.data).toEqual({ added: ids, length: 3 });

    const [edited] = await eventsOf(() => db.none(`UPDATE chat_queued_messages SET content = '["y"]' WHERE id = $1`, [ids[1]]));
    expect(edited!.data).toEqual({ updated: [ids[1]], length: 3 });

    // Moving a row to another chat: removed from one queue, added to the other.
    const moved = await eventsOf(() => db.none('UPDATE chat_queued_messages SET chat_id = $2 WHERE id = $1', [ids[0], other]));
    expect(moved.find((e) => e.chat_id === chat)!.data).toEqual({ removed: [ids[0]], length: 2 });
    expect(moved.find((e) => e.chat_id === other)!.data).toEqual({ added: [ids[0]], length: 1 });

    const [cleared] = await eventsOf(() => db.none('DELETE FROM chat_queued_messages WHERE chat_id = $1', [chat]));
    expect(cleared!.data).toEqual({ removed: ids.slice(1), length: 0 });
  });
});

describe('diff status triggers', () => {
  it('insert and real changes are diff_status; a refresh that moves only timestamps is silent', async () => {
    const chat = await insertChat(db, owner, modelA);
    const upsert = (fields: { additions: number; title: string }) => db.none(
      `INSERT INTO chat_diff_statuses (chat_id, url, pull_request_state, pull_request_title, additions, refreshed_at, stale_at)
       VALUES ($(chat), 'https://example.test/pr/1', 'open', $(title), $(additions), now(), now() + interval '1 minute')
       ON CONFLICT (chat_id) DO UPDATE SET url = excluded.url, pull_request_state = excluded.pull_request_state,
         pull_request_title = excluded.pull_request_title, additions = excluded.additions,
         refreshed_at = excluded.refreshed_at, stale_at = excluded.stale_at, updated_at = now()`,
      { chat, ...fields },
    );
    expect(await eventsOf(() => upsert({ additions: 1, title: 'Fix' }))).toMatchObject([{ kind: 'diff_status', chat_id: chat, owner_id: owner }]);
    expect(await eventsOf(() => upsert({ additions: 1, title: 'Fix' }))).toEqual([]);
    expect(kinds(await eventsOf(() => upsert({ additions: 2, title: 'Fix' })))).toEqual(['diff_status']);
    expect(kinds(await eventsOf(() => upsert({ additions: 2, title: 'Fix it' })))).toEqual(['diff_status']);
    expect(await eventsOf(() => db.none('DELETE FROM chat_diff_statuses WHERE chat_id = $1', [chat]))).toMatchObject([
      { kind: 'diff_status', data: { removed: true } },
    ]);
  });
});

describe('model config triggers', () => {
  it('created, updated, default changed and deleted, global (no chat, no owner)', async () => {
    let id = '';
    expect(await eventsOf(async () => (id = await insertModelConfig(db)))).toEqual([
      { kind: 'model_config_created', chat_id: null, owner_id: null, model_config_id: id, message_id: null, data: {} },
    ]);
    expect(await eventsOf(() => db.none('UPDATE chat_model_configs SET updated_at = now() WHERE id = $1', [id]))).toEqual([]);
    expect(kinds(await eventsOf(() => db.none("UPDATE chat_model_configs SET display_name = 'Nice', input_price = 1.5 WHERE id = $1", [id])))).toEqual(['model_config_updated']);

    // Switching the default: the new one is default_changed, the old one (losing the flag) updated.
    const previousDefault = await db.one<{ id: string }>('SELECT id FROM chat_model_configs WHERE is_default AND NOT deleted');
    const switched = await eventsOf(() => db.none(
      'UPDATE chat_model_configs SET is_default = (id = $1), updated_at = now() WHERE id = $1 OR is_default',
      [id],
    ));
    expect(switched.map((c) => [c.kind, c.model_config_id]).sort()).toEqual([
      ['model_config_default_changed', id],
      ['model_config_updated', previousDefault.id],
    ].sort());

    const deleted = await eventsOf(() => db.none(
      'UPDATE chat_model_configs SET deleted = true, deleted_at = now(), is_default = false, enabled = false WHERE id = $1',
      [id],
    ));
    expect(deleted.map((c) => [c.kind, c.model_config_id])).toEqual([['model_config_deleted', id]]);
    // Restore a default for the other tests.
    await db.none('UPDATE chat_model_configs SET is_default = true WHERE id = $1', [modelA]);
  });
});

describe('notifications', () => {
  it('stay tiny (the xid only) whatever the row size, and come once per transaction', async () => {
    const chat = await insertChat(db, owner, modelA);
    const conn = await db.connect({ direct: true });
    const payloads: string[] = [];
    try {
      conn.client.on('notification', (msg: { channel: string; payload?: string }) => {
        if (msg.channel === EVENTS_CHANNEL) payloads.push(msg.payload ?? '');
      });
      await conn.none('LISTEN $1:name', [EVENTS_CHANNEL]);

      const big = 'x'.repeat(1024 * 1024);
      const { xid } = await db.tx(async (t) => {
        await insertMessage(t, chat, big);
        return t.one<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
      });
      await expect.poll(() => payloads.length, { timeout: 5000 }).toBe(1);
      expect(payloads[0]).toBe(xid);
      expect(Buffer.byteLength(payloads[0]!)).toBeLessThan(100);

      // Five events in one transaction, then a marker transaction: the marker arriving proves
      // the first one's notifications have all been delivered, and there was just one.
      const five = await db.tx(async (t) => {
        for (let i = 0; i < 5; i++) await insertMessage(t, chat);
        return (await t.one<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).xid;
      });
      const marker = await db.tx(async (t) => {
        await insertMessage(t, chat);
        return (await t.one<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid')).xid;
      });
      await expect.poll(() => payloads.includes(marker), { timeout: 5000 }).toBe(true);
      expect(payloads.slice(1)).toEqual([five, marker]);
    } finally {
      await conn.done();
    }
  });
});
