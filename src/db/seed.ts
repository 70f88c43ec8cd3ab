import type { Db } from './index.js';
import { sql } from './sql.js';

const demo = sql('seed/demo.sql');

/** Demo users and the scopes their printed tokens get. */
export const DEMO_USERS = [
  { username: 'alice', scopes: ['user'] },
  { username: 'bob', scopes: ['user'] },
  { username: 'admin', scopes: ['user', 'admin'] },
  { username: 'worker', scopes: ['worker'] },
] as const;

/** Loads the demo data (idempotent: fixed ids, chats only on the first run). Returns true when chats were created. */
export async function seedDemo(db: Db): Promise<boolean> {
  return db.tx('seed', async (t) => {
    const before = await t.one<{ n: number }>('SELECT count(*)::int AS n FROM chats');
    await t.multi(demo);
    const after = await t.one<{ n: number }>('SELECT count(*)::int AS n FROM chats');
    return after.n > before.n;
  });
}

/** True when the database holds no users yet (first run). */
export async function isEmpty(db: Db): Promise<boolean> {
  const row = await db.one<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM users) AS empty');
  return row.empty;
}
