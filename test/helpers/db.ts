import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createDb, type Db } from '../../src/db/index.js';
import { ensureDatabase } from '../../src/db/embedded.js';

export interface TestDatabase {
  db: Db;
  url: string;
  name: string;
  /** Closes the pool (the database is dropped with the test server, or at teardown). */
  close(): Promise<void>;
}

/** Builds a URL for another database on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(inject('adminUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh, migrated database for one test file, cloned from the template. */
export async function createTestDatabase(options: { template?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `${inject('templateDb')}_${randomBytes(4).toString('hex')}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await ensureDatabase(inject('adminUrl'), name, options.template === false ? undefined : inject('templateDb'));
      break;
    } catch (err) {
      // Two files cloning the template at the same instant can collide; retry briefly.
      if (attempt >= 5 || !/being accessed by other users/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }
  const url = databaseUrl(name);
  const db = createDb(url, options.poolSize ?? 10);
  return { db, url, name, close: () => db.$pool.end() };
}
