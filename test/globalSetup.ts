import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDb } from '../src/db/index.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedHandle } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of a database on the test server with CREATE DATABASE rights. */
    adminUrl: string;
    /** Migrated template every test file clones its own database from. */
    templateDb: string;
  }
}

let embedded: EmbeddedHandle | undefined;
let adminUrl: string;
let templateDb: string;

/** Starts one real Postgres for the whole run (or uses DATABASE_URL) and migrates a template database. */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'chatgraph-test-'));
    chmodSync(dir, 0o755); // as root, Postgres runs as the postgres OS user, which must reach it
    embedded = await startEmbeddedPostgres({ pgdata: join(dir, 'pg'), ephemeral: true, fast: true, maxConnections: 400 });
    adminUrl = embedded.url('postgres');
  }
  templateDb = `chatgraph_tpl_${process.pid}`;
  await ensureDatabase(adminUrl, templateDb);
  const url = new URL(adminUrl);
  url.pathname = `/${templateDb}`;
  const db = createDb(url.toString(), 1);
  try {
    await migrate(db);
  } finally {
    await db.$pool.end();
  }
  project.provide('adminUrl', adminUrl);
  project.provide('templateDb', templateDb);
}

export async function teardown(): Promise<void> {
  if (embedded) {
    await embedded.stop();
    return;
  }
  const pgPromise = (await import('pg-promise')).default;
  const admin = pgPromise({ noWarnings: true })({ connectionString: adminUrl, max: 1 });
  try {
    // Test databases are named after the template: drop this run's, nobody else's.
    const dbs = await admin.map('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [templateDb], (r: { datname: string }) => r.datname);
    for (const name of dbs) await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
  } finally {
    await admin.$pool.end();
  }
}
