import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToken, createUser } from '../../src/auth/admin.js';
import { createDb, type Db } from '../../src/db/index.js';
import { ensureDatabase, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';

/**
 * What the live-stream benchmarks (fanout, parts, big-events) share: their numeric command-line
 * options, a fresh migrated database per run with a default model config and one user, and the
 * standalone entry point that brings its own embedded Postgres (or uses DATABASE_URL).
 */

/** `--name <number>` from the command line, or `fallback`. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** A new database `name` on the server of `adminUrl`, migrated, with a default model config and the user `username` and its token. */
export async function scenarioDatabase(adminUrl: string, name: string, username: string): Promise<{ db: Db; url: URL; userId: string; token: string }> {
  await ensureDatabase(adminUrl, name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), 10);
  await migrate(db);
  await db.none("INSERT INTO chat_model_configs (provider, model, context_limit, is_default) VALUES ('p', 'm', 1000, true)");
  const user = await createUser(db, { username });
  const { token } = await createToken(db, { username });
  return { db, url, userId: user.id, token };
}

/**
 * Runs a benchmark on its own: an ephemeral embedded Postgres in a temporary directory (unless
 * DATABASE_URL is set), `run` with the admin URL and that directory, its markdown on stdout.
 */
export async function runStandalone(prefix: string, maxConnections: number, run: (adminUrl: string, dir: string | null) => Promise<string>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `chatgraph-${prefix}-`));
  chmodSync(dir, 0o755);
  const pg = process.env.DATABASE_URL ? undefined : await startEmbeddedPostgres({ pgdata: join(dir, 'pg'), ephemeral: true, maxConnections });
  try {
    process.stdout.write(`${await run(process.env.DATABASE_URL ?? pg!.url('postgres'), pg ? join(dir, 'pg') : null)}\n`);
  } finally {
    await pg?.stop();
  }
}
