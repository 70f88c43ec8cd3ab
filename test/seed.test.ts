import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEmpty, seedDemo } from '../src/db/seed.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

const COUNTS = `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM chats)::int AS chats,
  (SELECT count(*) FROM chat_messages)::int AS messages, (SELECT count(*) FROM chat_model_configs)::int AS models,
  (SELECT count(*) FROM chat_queued_messages)::int AS queued, (SELECT count(*) FROM chat_diff_statuses)::int AS diffs`;

describe('demo seed', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.close());

  it('loads the demo data once; running it again adds nothing', async () => {
    expect(await isEmpty(t.db)).toBe(true);
    expect(await seedDemo(t.db)).toBe(true);
    const first = await t.db.one(COUNTS);
    expect(first).toEqual({ users: 4, chats: 7, messages: 13, models: 4, queued: 1, diffs: 1 });
    const [a, b] = await Promise.all([seedDemo(t.db), seedDemo(t.db)]);
    expect([a, b]).toEqual([false, false]);
    expect(await t.db.one(COUNTS)).toEqual(first);
    expect(await isEmpty(t.db)).toBe(false);
  });

  it('covers the states the dashboards show', async () => {
    const statuses = await t.db.map('SELECT DISTINCT status::text FROM chats ORDER BY 1', [], (r: { status: string }) => r.status);
    expect(statuses).toEqual(['completed', 'error', 'pending', 'requires_action', 'running', 'waiting']);
    const costs = await t.db.any("SELECT chat_id, total_cost_micros FROM chat_messages WHERE role = 'assistant' ORDER BY id");
    // Claude @ 3/15/0.3/3.75 per 1M: 12400*3 + 2100*15 + 8000*0.3 + 1200*3.75 = 75600 micro-USD.
    // (Looked up by chat: one INSERT … SELECT over a join does not promise id order.)
    expect(costs.find((c) => c.chat_id === '20000000-0000-4000-8000-000000000001')?.total_cost_micros).toBe('75600');
    expect(costs.map((c) => c.total_cost_micros)).toContain(null); // the unpriced model
    expect(costs.map((c) => c.total_cost_micros)).toContain('0'); // the free model
  });
});
