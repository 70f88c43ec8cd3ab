import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CommandError, createToken, createUser, listTokens, revokeToken } from './auth/admin.js';
import { parseDuration } from './auth/tokens.js';
import { loadConfig, type Config } from './config.js';
import type { Db } from './db/index.js';
import { DEMO_USERS, isEmpty, seedDemo } from './db/seed.js';
import { logger } from './logger.js';
import { openDatabase, type Database } from './runtime.js';
import { startDemoWorker } from './demoWorker.js';
import { buildApp } from './server.js';

const USAGE = `usage: chatgraph <command>

  start [--seed] [--demo]              serve GraphQL on PORT (default 4000); embedded Postgres unless DATABASE_URL;
                                       --demo also runs a demo worker that drives chats through runs
  migrate                              apply pending migrations and exit
  seed                                 load the demo data (idempotent)
  user create <username> [--name N] [--admin]
  token create <username> [--scope user|worker|admin]... [--expires-in 30d] [--name N]
  token list <username>
  token revoke <token-id>`;

const DEFAULT_QUERY = `# Demo token for alice is in the headers below. Try:
query Dashboard {
  viewer { id username name isAdmin }
}
`;

type DemoTokens = Record<string, string>;

function demoTokensFile(config: Config): string {
  return join(config.dataDir, 'demo-tokens.json');
}

/**
 * Demo tokens are minted once when the embedded database is first seeded and kept in
 * .chatgraph/demo-tokens.json (mode 0600, git-ignored) so every later `npm start` can print them.
 * Only the demo on the embedded database does this; real tokens are shown once, never stored.
 */
async function mintDemoTokens(db: Db, config: Config): Promise<DemoTokens> {
  const tokens: DemoTokens = {};
  for (const user of DEMO_USERS) {
    tokens[user.username] = (await createToken(db, { username: user.username, scopes: [...user.scopes], name: 'demo' })).token;
  }
  mkdirSync(config.dataDir, { recursive: true });
  writeFileSync(demoTokensFile(config), `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  chmodSync(demoTokensFile(config), 0o600);
  return tokens;
}

async function demoTokens(database: Database, config: Config, seedRequested: boolean): Promise<DemoTokens | null> {
  const { db } = database;
  const file = demoTokensFile(config);
  if (database.embedded) {
    const firstRun = await isEmpty(db);
    if (firstRun || seedRequested) await seedDemo(db);
    if (!firstRun && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoTokens;
    logger.info('minting demo tokens');
    return mintDemoTokens(db, config);
  }
  if (seedRequested) {
    await seedDemo(db);
    return mintDemoTokens(db, config);
  }
  return null;
}

async function start(config: Config, seedRequested: boolean, demo: boolean): Promise<void> {
  const database = await openDatabase(config);
  let tokens: DemoTokens | null;
  try {
    tokens = await demoTokens(database, config, seedRequested);
  } catch (err) {
    await database.close();
    throw err;
  }
  const app = buildApp({
    db: database.db,
    config,
    reclaimStaleRuns: true,
    graphiql: tokens?.alice ? { headers: { Authorization: `Bearer ${tokens.alice}` }, defaultQuery: DEFAULT_QUERY } : undefined,
  });

  let stopDemo: (() => Promise<void>) | undefined;
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    // Ctrl-C reaches every process of the group and tsx relays it too, so repeats are expected:
    // ignore them; a drain that hangs is cut off by the timer instead.
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took longer than 30s; exiting');
      process.exit(1);
    }, 30_000).unref();
    let code = 0;
    const steps = [
      ['demo worker', () => stopDemo?.() ?? Promise.resolve()],
      ['server', () => app.stop()],
      ['database', () => database.close()],
    ] as const;
    for (const [what, step] of steps) {
      try {
        await step();
      } catch (err) {
        code = 1;
        logger.error({ err: String(err) }, `stopping the ${what} failed`);
      }
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const url = await app.start();
  if (demo) {
    if (!tokens?.worker || !tokens.alice) {
      await app.stop();
      await database.close();
      throw new Error('--demo needs the demo data: use the embedded database, or add --seed');
    }
    stopDemo = startDemoWorker({ url, workerToken: tokens.worker, userToken: tokens.alice });
  }
  const lines = [`chatgraph is serving GraphQL at ${url}`];
  if (config.graphiql) lines.push(`GraphiQL: open ${url} in a browser`);
  lines.push(`WebSocket (graphql-ws): ${url.replace(/^http/, 'ws')}`);
  lines.push(database.embedded ? `Database: embedded Postgres in ${join(config.dataDir, 'pg')}` : 'Database: DATABASE_URL');
  if (stopDemo) lines.push('Demo worker: running (chats move through runs; watch them with the chatWatch subscription)');
  if (tokens) {
    lines.push('', 'Demo tokens (Authorization: Bearer <token>):');
    for (const [user, token] of Object.entries(tokens)) lines.push(`  ${user.padEnd(7)} ${token}`);
    lines.push('', `Try: curl -s ${url} -H "Authorization: Bearer ${tokens.alice}" -H 'content-type: application/json' -d '{"query":"{ viewer { username } }"}'`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs a short command against the database and closes it. */
async function withDatabase<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T> {
  const database = await openDatabase(config);
  try {
    return await fn(database.db);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      seed: { type: 'boolean', default: false },
      demo: { type: 'boolean', default: false },
      admin: { type: 'boolean', default: false },
      name: { type: 'string' },
      scope: { type: 'string', multiple: true },
      'expires-in': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (command) {
    case 'start':
      return start(config, values.seed, values.demo);
    case 'migrate':
      return withDatabase(config, async () => {
        process.stdout.write('migrations up to date\n');
      });
    case 'seed':
      return withDatabase(config, async (db) => {
        const created = await seedDemo(db);
        process.stdout.write(created ? 'demo data loaded\n' : 'demo data already present\n');
      });
    case 'user':
      if (sub !== 'create' || !arg) throw new CommandError('usage: chatgraph user create <username> [--name NAME] [--admin]');
      return withDatabase(config, async (db) => {
        const user = await createUser(db, { username: arg, name: values.name, isAdmin: values.admin });
        process.stdout.write(`${user.id}\n`);
      });
    case 'token':
      if (sub === 'create' && arg) {
        const expiresInMs = values['expires-in'] ? parseDuration(values['expires-in']) : null;
        return withDatabase(config, async (db) => {
          const { token } = await createToken(db, { username: arg, scopes: values.scope, expiresInMs, name: values.name });
          process.stdout.write(`${token}\n`);
        });
      }
      if (sub === 'list' && arg) {
        return withDatabase(config, async (db) => {
          for (const t of await listTokens(db, arg)) {
            const state = t.revoked_at ? 'revoked' : t.expires_at && t.expires_at <= new Date() ? 'expired' : 'active';
            process.stdout.write(
              [t.id, state, t.scopes.join(','), t.name || '-', t.expires_at?.toISOString() ?? 'never', t.last_used_at?.toISOString() ?? 'never-used'].join('\t') + '\n',
            );
          }
        });
      }
      if (sub === 'revoke' && arg) {
        return withDatabase(config, async (db) => {
          await revokeToken(db, arg);
          process.stdout.write(`revoked ${arg}\n`);
        });
      }
      throw new CommandError('usage: chatgraph token create|list <username> | token revoke <token-id>');
    default:
      throw new CommandError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`chatgraph: ${message}\n`);
  process.exit(1);
});
