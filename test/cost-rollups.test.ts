import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costTotalsColumns } from '../src/db/repos/chats.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertModels, MODEL } from './helpers/data.js';
import { makeUser } from './helpers/fixtures.js';

/**
 * The daily rollups (migration 0007) must give exactly what reading every message gives. The
 * oracle is the statement cost analytics ran before the rollups (bench/sql/cost_*_raw.sql): every range
 * (aligned to midnight or not, inside one day, empty, reversed) is answered both ways after
 * inserts (single and multi-row), updates of counted columns, soft and hard deletes, a deleted
 * chat and a hard-deleted model config; and the trigger-maintained rollups equal a rebuild.
 */

const raw = {
  summary: readFileSync(new URL('../bench/sql/cost_summary_raw.sql', import.meta.url), 'utf8'),
  users: readFileSync(new URL('../bench/sql/cost_users_raw.sql', import.meta.url), 'utf8'),
};

const DAY = 86_400_000;
const BASE = Date.UTC(2025, 4, 10);

/** A deterministic pseudo-random sequence (a test that fails must fail again). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('cost rollups', () => {
  let t: TestDatabase;
  const owners: string[] = [];
  const chats: string[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    await t.db.none(
      "INSERT INTO chat_model_configs (id, provider, model, display_name, context_limit) VALUES ('10000000-0000-4000-8000-0000000000ff', 'tmp', 'tmp', 'Temporary', 1000)",
    );
    const rnd = random(7);
    for (let u = 0; u < 3; u++) {
      const { user } = await makeUser(t.db);
      owners.push(user.id);
      for (let r = 0; r < 3; r++) {
        const root = await insertChat(t.db, user.id, { title: `u${u} r${r}` });
        chats.push(root, await insertChat(t.db, user.id, { title: `u${u} r${r} child`, parent: root }));
      }
    }
    const models = [MODEL.priced, MODEL.gpt, MODEL.free, MODEL.unpriced, '10000000-0000-4000-8000-0000000000ff', null];
    const value = (p: number, max: number) => (rnd() < p ? null : Math.floor(rnd() * max));
    const message = () => [
      chats[Math.floor(rnd() * chats.length)],
      rnd() < 0.8 ? 'assistant' : 'user',
      models[Math.floor(rnd() * models.length)],
      value(0.2, 5000), value(0.2, 800), value(0.5, 300), value(0.5, 50), value(0.3, 90_000), value(0.2, 4000),
      new Date(BASE + Math.floor(rnd() * 6 * DAY)),
    ];
    const insert = `INSERT INTO chat_messages (chat_id, role, content, content_version, model_config_id, input_tokens, output_tokens,
        cache_read_tokens, cache_creation_tokens, total_cost_micros, runtime_ms, created_at)
      SELECT v.chat_id::uuid, v.role::chat_message_role, '[]', 1, v.model::uuid, v.i::bigint, v.o::bigint, v.cr::bigint, v.cc::bigint, v.cost::bigint, v.rt::bigint, v.at::timestamptz
      FROM jsonb_to_recordset($1::jsonb) AS v(chat_id text, role text, model text, i bigint, o bigint, cr bigint, cc bigint, cost bigint, rt bigint, at timestamptz)`;
    const asJson = (rows: unknown[][]) =>
      JSON.stringify(rows.map(([chat_id, role, model, i, o, cr, cc, cost, rt, at]) => ({ chat_id, role, model, i, o, cr, cc, cost, rt, at })));
    // Multi-row statements (one trigger call for many rows) and single-row ones.
    for (let batch = 0; batch < 6; batch++) await t.db.none(insert, [asJson(Array.from({ length: 60 }, message))]);
    for (let i = 0; i < 30; i++) await t.db.none(insert, [asJson([message()])]);
    // Updates of counted columns (cost, tokens, time across a day boundary, model, role), a soft
    // delete (counts stay), hard deletes, a deleted child chat, a deleted root chat (and its
    // children by cascade), and a hard-deleted model config (messages' model set to NULL).
    await t.db.none('UPDATE chat_messages SET total_cost_micros = total_cost_micros + 7 WHERE id % 11 = 0');
    await t.db.none("UPDATE chat_messages SET created_at = created_at + interval '13 hours', input_tokens = NULL WHERE id % 13 = 0");
    await t.db.none(`UPDATE chat_messages SET model_config_id = $1 WHERE id % 17 = 0`, [MODEL.gpt]);
    await t.db.none("UPDATE chat_messages SET role = CASE role WHEN 'assistant' THEN 'user'::chat_message_role ELSE 'assistant' END WHERE id % 19 = 0");
    await t.db.none('UPDATE chat_messages SET deleted = true WHERE id % 5 = 0');
    await t.db.none('DELETE FROM chat_messages WHERE id % 23 = 0');
    await t.db.none('DELETE FROM chats WHERE id = $1', [chats[3]]); // a child
    await t.db.none('DELETE FROM chats WHERE id = $1', [chats[6]]); // a root and its child
    await t.db.none("DELETE FROM chat_model_configs WHERE id = '10000000-0000-4000-8000-0000000000ff'");
  });
  afterAll(async () => {
    await t.close();
  });

  const ranges: Array<[string, Date, Date]> = [
    ['whole days', new Date(BASE), new Date(BASE + 6 * DAY)],
    ['everything, unaligned', new Date(BASE - 1000), new Date(BASE + 7 * DAY + 3)],
    ['partial edges around whole days', new Date(BASE + 0.3 * DAY), new Date(BASE + 4.6 * DAY)],
    ['inside one day', new Date(BASE + 2.1 * DAY), new Date(BASE + 2.8 * DAY)],
    ['one aligned day', new Date(BASE + DAY), new Date(BASE + 2 * DAY)],
    ['across one midnight', new Date(BASE + 2.9 * DAY), new Date(BASE + 3.2 * DAY)],
    ['empty', new Date(BASE + DAY), new Date(BASE + DAY)],
    ['reversed', new Date(BASE + 3 * DAY), new Date(BASE + DAY)],
  ];

  const flat = (rows: Array<Record<string, unknown>>, keys: string[]) => rows.map((r) => keys.map((k) => r[k]));
  const TOTALS = ['total_cost_micros', 'priced_message_count', 'unpriced_message_count', 'total_input_tokens', 'total_output_tokens',
    'total_cache_read_tokens', 'total_cache_creation_tokens', 'total_runtime_ms', 'message_count'];

  it.each(ranges)('costSummary equals the per-message answer: %s', async (_name, start, end) => {
    for (const owner of owners) {
      const expected = await t.db.any(raw.summary, { totals: costTotalsColumns, userId: owner, start, end });
      const got = await t.db.costs.summary(owner, start, end);
      expect(flat([got.totals as never], TOTALS)).toEqual(flat(expected.filter((r) => r.section === 'total'), TOTALS));
      expect(flat(got.byModel as never, ['model_config_id', 'display_name', ...TOTALS])).toEqual(
        flat(expected.filter((r) => r.section === 'model'), ['model_config_id', 'display_name', ...TOTALS]),
      );
      expect(flat(got.byChat as never, ['root_chat_id', 'chat_title', ...TOTALS])).toEqual(
        flat(expected.filter((r) => r.section === 'chat'), ['root_chat_id', 'chat_title', ...TOTALS]),
      );
    }
    if (end > start && end.getTime() - start.getTime() > DAY) {
      const some = await t.db.costs.summary(owners[0]!, start, end);
      expect(some.totals.message_count).toBeGreaterThan(0); // the comparison is not vacuous
    }
  });

  it.each(ranges)('costUsers equals the per-message answer: %s', async (_name, start, end) => {
    for (const search of [null, 'user']) {
      const pattern = search === null ? null : `%${search}%`;
      const expected = await t.db.any(raw.users, { totals: costTotalsColumns, start, end, pattern, afterCost: null, afterUsername: null, limit: 100 });
      const got = await t.db.costs.users({ start, end, search }, null, 100);
      expect(got.totalCount).toBe(expected[0]?.total_count ?? 0);
      const keys = ['cost', 'chat_count', ...TOTALS];
      expect(got.rows.map((r) => [r.user.id, ...flat([r as never], keys)[0]!])).toEqual(
        expected.filter((r) => r.owner_id !== null).map((r) => [r.owner_id, ...flat([r], keys)[0]!]),
      );
    }
  });

  it('the rollups the triggers kept equal a rebuild from the messages', async () => {
    const snapshot = async () => ({
      chats: await t.db.any('SELECT * FROM chat_cost_daily_chats WHERE message_count <> 0 ORDER BY owner_id, day, root_chat_id'),
      models: await t.db.any('SELECT * FROM chat_cost_daily_models WHERE message_count <> 0 ORDER BY owner_id, day, model_config_id NULLS LAST'),
    });
    const kept = await snapshot();
    expect(kept.chats.length).toBeGreaterThan(10);
    await t.db.any('SELECT chat_cost_rollups_rebuild()');
    expect(await snapshot()).toEqual(kept);
    // Rows emptied by deletes hold zeros only, never negative or partial counts.
    const odd = await t.db.any('SELECT * FROM chat_cost_daily_chats WHERE message_count = 0 AND (cost <> 0 OR priced_count <> 0)');
    expect(odd).toEqual([]);
  });
});
