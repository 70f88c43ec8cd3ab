import { createToken, createUser } from '../../src/auth/admin.js';
import type { Db } from '../../src/db/index.js';
import { benchSql } from './sql.js';

const seedSql = benchSql('seed.sql');

export interface SeedResult {
  userId: string;
  token: string;
  seconds: number;
  /** Row counts per table, for RESULTS.md. */
  counts: Record<string, number>;
  /** Whether the event triggers were bypassed while seeding (superuser only). */
  triggersBypassed: boolean;
}

/**
 * Creates the bench user and token through chatgraph's own admin functions, then loads the data
 * set in one transaction. As superuser the seed runs with session_replication_role = replica:
 * the watch-stream triggers would otherwise append ~200k chat_events rows nobody reads here.
 * VACUUM ANALYZE afterwards gives the planner real statistics and the visibility map a clean
 * start, as on a long-running server.
 */
export async function seed(db: Db): Promise<SeedResult> {
  const started = performance.now();
  const user = await createUser(db, { username: 'bench', name: 'Bench Viewer' });
  const { token } = await createToken(db, { username: 'bench', name: 'bench' });
  const { rolsuper } = await db.one<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
  await db.tx('bench-seed', async (tx) => {
    if (rolsuper) await tx.none('SET LOCAL session_replication_role = replica');
    await tx.none(seedSql, { benchUserId: user.id });
    // Triggers were skipped, the cost rollups' among them: compute those as the triggers would have.
    if (rolsuper) await tx.any('SELECT chat_cost_rollups_rebuild()');
  });
  await db.none('VACUUM ANALYZE');
  const counts: Record<string, number> = {};
  for (const table of ['users', 'chats', 'chat_messages', 'chat_queued_messages', 'chat_diff_statuses', 'chat_model_configs']) {
    counts[table] = (await db.one<{ n: number }>('SELECT count(*)::int AS n FROM $1:name', [table])).n;
  }
  counts['chats of the bench user'] = (await db.one<{ n: number }>('SELECT count(*)::int AS n FROM chats WHERE owner_id = $1', [user.id])).n;
  return { userId: user.id, token, seconds: (performance.now() - started) / 1000, counts, triggersBypassed: rolsuper };
}
