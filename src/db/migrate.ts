import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './index.js';
import { sql } from './sql.js';

/**
 * Forward-only migration runner for migrations/NNNN_description.sql.
 *
 * Why not a library: the files are plain SQL applied in order; what matters is that two
 * gateways starting at once never both migrate (a session advisory lock serialises them), that
 * each file runs in its own transaction, and that an edited landed migration is detected
 * (checksum) instead of silently diverging. That is ~60 lines here versus a dependency with its
 * own migration DSL and CLI.
 */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'migrations');

const LOCK_KEY = 0x6367_6d69; // 'cgmi'
const createTable = sql('schema_migrations/create.sql');

export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads the migration files in order; rejects gaps and malformed names. */
export async function loadMigrations(dir = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const [index, file] of files.entries()) {
    const match = /^(\d{4})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new Error(`migration file name must be NNNN_description.sql: ${file}`);
    const id = Number(match[1]);
    if (id !== index + 1) throw new Error(`migration ${file} is out of sequence (expected ${index + 1})`);
    const sql = await readFile(join(dir, file), 'utf8');
    migrations.push({ id, name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

/** Applies pending migrations; returns the names applied. Safe to call from several processes at once. */
export async function migrate(db: Db, dir = migrationsDir, onApply?: (name: string) => void): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  return db.task('migrate', async (t) => {
    await t.one('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    try {
      await t.none(createTable);
      const applied = new Map<number, { name: string; checksum: string }>(
        (await t.any<{ id: number; name: string; checksum: string }>('SELECT id, name, checksum FROM schema_migrations')).map((r) => [r.id, r]),
      );
      const done: string[] = [];
      for (const m of migrations) {
        const prior = applied.get(m.id);
        if (prior) {
          if (prior.checksum !== m.checksum) {
            throw new Error(`migration ${m.name} was edited after it was applied (checksum mismatch); add a new migration instead`);
          }
          continue;
        }
        onApply?.(m.name);
        await t.tx(`migration ${m.name}`, async (tx) => {
          await tx.none(m.sql);
          await tx.none('INSERT INTO schema_migrations (id, name, checksum) VALUES ($1, $2, $3)', [m.id, m.name, m.checksum]);
        });
        done.push(m.name);
      }
      const unknown = [...applied.keys()].filter((id) => !migrations.some((m) => m.id === id));
      if (unknown.length > 0) throw new Error(`database has migrations this code does not know: ${unknown.join(', ')}`);
      return done;
    } finally {
      await t.one('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
    }
  });
}
