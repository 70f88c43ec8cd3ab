import type { Db } from '../../src/db/index.js';

/**
 * Row count and an md5 of every row of every table in the public schema (the migrations
 * bookkeeping and api_tokens' last_used_at excluded: reads may touch it), so a test can prove
 * that a batch of requests wrote nothing at all.
 */
export async function tableFingerprint(db: Db): Promise<Record<string, { rows: number; md5: string | null }>> {
  const tables = await db.map<string>(
    `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '%migrations%' ORDER BY tablename`,
    [],
    (r: { tablename: string }) => r.tablename,
  );
  const out: Record<string, { rows: number; md5: string | null }> = {};
  for (const table of tables) {
    const row = table === 'api_tokens'
      ? await db.one(`SELECT count(*)::int AS rows, md5(string_agg((t.id, t.revoked_at, t.scopes)::text, ',' ORDER BY t.id::text)) AS md5 FROM api_tokens t`)
      : await db.one(`SELECT count(*)::int AS rows, md5(string_agg(t::text, ',' ORDER BY t::text)) AS md5 FROM $1:name t`, [table]);
    out[table] = row;
  }
  return out;
}
