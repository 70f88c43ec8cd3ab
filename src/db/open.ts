import { join } from 'node:path';
import type { Config } from '../config.js';
import { logger } from '../logger.js';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedHandle } from './embedded.js';
import { createDb, type Db } from './index.js';
import { migrate } from './migrate.js';

/** An open database (embedded or DATABASE_URL), migrated, with its own shutdown. */
export interface Database {
  db: Db;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

const EMBEDDED_DB_NAME = 'chatgraph';

export interface OpenOptions {
  /** Receives human progress lines (first start: initialising, migrating); the server prints them. */
  onProgress?: (line: string) => void;
}

/** Opens `DATABASE_URL`, or starts the embedded Postgres under the data dir; applies migrations. */
export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  let handle: EmbeddedHandle | undefined;
  let url = config.databaseUrl;
  if (!url) {
    handle = await startEmbeddedPostgres({ pgdata: join(config.dataDir, 'pg'), onProgress: options.onProgress });
    await ensureDatabase(handle.url('postgres'), EMBEDDED_DB_NAME);
    url = handle.url(EMBEDDED_DB_NAME);
  }
  const db = createDb(url, config.dbPoolSize);
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      await db.$pool.end().catch(() => undefined);
      await handle?.stop();
    })());
  try {
    const applied = await migrate(db, undefined, (name) => options.onProgress?.(`applying migration ${name}…`));
    if (applied.length > 0) logger.info({ applied }, 'migrations applied');
  } catch (err) {
    await close();
    throw err;
  }
  return { db, url, embedded: handle !== undefined, close };
}
