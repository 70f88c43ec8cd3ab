import { loadConfig } from '../../src/config.js';
import { createDb, onQuery } from '../../src/db/index.js';
import { buildApp } from '../../src/server.js';
import { runChild } from './child.js';

/** chatgraph as `npm start` builds it (buildApp, default pool size), on 127.0.0.1 port 0. */
const config = loadConfig({ ...process.env, DATABASE_URL: process.env.BENCH_DATABASE_URL, LOG_LEVEL: 'warn', PORT: '0' });
const db = createDb(config.databaseUrl!, config.dbPoolSize);
const app = buildApp({ db, config });

let statements: string[] | null = null;
let unsubscribe: (() => void) | undefined;

await runChild({
  start: () => app.start(0, '127.0.0.1'),
  async stop() {
    await app.stop();
    await db.$pool.end();
  },
  counter: {
    start() {
      statements = [];
      unsubscribe = onQuery((q) => statements?.push(q));
    },
    stop() {
      unsubscribe?.();
      const out = statements ?? [];
      statements = null;
      return out;
    },
  },
});
