import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CommandError, createToken, createUser, listTokens, revokeToken } from './auth/admin.js';
import { parseDuration } from './auth/tokens.js';
import { loadConfig, type Config } from './config.js';
import type { Db } from './db/index.js';
import type { App } from './server.js';
import { DEMO_USERS, isEmpty, seedDemo } from './db/seed.js';
import { logger } from './logger.js';
import { openDatabase, type Database } from './db/open.js';

const USAGE = `usage: chatgraph <command>

  start [--seed] [--demo]              serve GraphQL on PORT (default 4000); embedded Postgres unless DATABASE_URL;
                                       --demo also runs a demo worker that drives chats through runs
  init --admin <username> [--name N]   migrate, create the admin user, print an admin token (first run on a new database)
  migrate                              apply pending migrations and exit
  seed                                 load the demo data (idempotent)
  user create <username> [--name N] [--admin]
  token create <username> [--scope user|worker|admin]... [--expires-in 30d] [--name N]
  token list <username>
  token revoke <token-id>
  model create --provider P --model M [--display-name D] [--context-limit N] [--default] [--disabled]
               [--input-price USD] [--output-price USD] [--cache-read-price USD] [--cache-write-price USD]
                                       prices in USD per 1M tokens; prints the new model config's id
  model list                           id, provider, model, default/enabled, prices`;

/** Context window used by `model create` when --context-limit is not given. */
const DEFAULT_CONTEXT_LIMIT = 200_000n;

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

async function demoTokens(database: Database, config: Config, seedRequested: boolean, onProgress: (line: string) => void): Promise<DemoTokens | null> {
  const { db } = database;
  const file = demoTokensFile(config);
  if (database.embedded) {
    const firstRun = await isEmpty(db);
    if (firstRun || seedRequested) {
      onProgress('seeding demo data…');
      await seedDemo(db);
    }
    if (!firstRun && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DemoTokens;
    logger.info('minting demo tokens');
    return mintDemoTokens(db, config);
  }
  if (seedRequested) {
    onProgress('seeding demo data…');
    await seedDemo(db);
    return mintDemoTokens(db, config);
  }
  return null;
}

/**
 * Under `npx chatgraph start` npm runs this process below `sh -c`, and npm passes a SIGTERM only
 * to that shell, which dies without passing it on: the server would keep running, orphaned.
 * So under npm the server also stops when its parent goes. (`npm start` execs node, so there the
 * signal arrives directly.) Never outside npm: a server started by a script that then exits must
 * keep running.
 */
function followParent(onExit: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onExit();
  }, 250);
  timer.unref();
}

/** Progress of a slow first start, for the person watching the terminal (stderr keeps stdout scriptable). */
function progress(line: string): void {
  process.stderr.write(`chatgraph: ${line}\n`);
}

/** "listen EADDRINUSE: address already in use 127.0.0.1:4000" → one line an operator can act on. */
function listenFailure(err: unknown, host: string, port: number): CommandError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  if (code === 'EADDRINUSE') return new CommandError(`cannot listen on ${where}: the port is already in use (set PORT to another port)`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new CommandError(`cannot listen on ${where}: HOST is not an address of this machine (use 127.0.0.1 or 0.0.0.0)`);
  }
  if (code === 'EACCES') return new CommandError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`);
  return new CommandError(`cannot listen on ${where}: ${err instanceof Error ? err.message : String(err)}`);
}

async function start(config: Config, seedRequested: boolean, demo: boolean): Promise<void> {
  // The server (schema, yoga, plugins) is loaded only to serve: short commands stay quick.
  const [{ buildApp }, { startDemoWorker }] = await Promise.all([import('./server.js'), import('./demoWorker.js')]);
  const database = await openDatabase(config, { onProgress: progress });
  let tokens: DemoTokens | null;
  try {
    tokens = await demoTokens(database, config, seedRequested, progress);
  } catch (err) {
    await database.close();
    throw err;
  }
  let app: App;
  try {
    app = buildApp({
      db: database.db,
      config,
      reclaimStaleRuns: true,
      graphiql: tokens?.alice ? { headers: { Authorization: `Bearer ${tokens.alice}` }, defaultQuery: DEFAULT_QUERY } : undefined,
    });
  } catch (err) {
    await database.close(); // e.g. an unreadable TRUSTED_DOCUMENTS manifest
    throw err;
  }

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
  if (config.launchedByNpm) followParent(() => void shutdown('parent exited'));

  let url: string;
  try {
    url = await app.start();
  } catch (err) {
    // Nothing half-started stays behind: the listener, the pool and the embedded Postgres go too.
    await app.stop().catch(() => undefined);
    await database.close();
    throw listenFailure(err, config.host, config.port);
  }
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

function parseContextLimit(raw: string | undefined): bigint {
  if (raw === undefined) return DEFAULT_CONTEXT_LIMIT;
  if (!/^[1-9]\d{0,11}$/.test(raw)) throw new CommandError(`--context-limit must be a positive integer of tokens, got "${raw}"`);
  return BigInt(raw);
}

/**
 * First run on a new database: migrations (done by openDatabase), the admin user (created, or
 * reused when it already is an admin), and a fresh token with the user and admin scopes.
 */
async function initialise(db: Db, username: string, name: string | undefined): Promise<string> {
  const existing = await db.users.byUsername(username);
  if (existing && !existing.is_admin) throw new CommandError(`user "${username}" exists and is not an admin`);
  if (!existing) {
    progress(`creating admin user ${username}…`);
    await createUser(db, { username, name, isAdmin: true });
  }
  const { token } = await createToken(db, { username, scopes: ['user', 'admin'], name: 'init' });
  if (!(await db.modelConfigs.defaultConfig())) {
    progress('no default model config yet: add one with `chatgraph model create --provider … --model … --default`');
  }
  return token;
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
      provider: { type: 'string' },
      model: { type: 'string' },
      'display-name': { type: 'string' },
      'context-limit': { type: 'string' },
      default: { type: 'boolean', default: false },
      disabled: { type: 'boolean', default: false },
      'input-price': { type: 'string' },
      'output-price': { type: 'string' },
      'cache-read-price': { type: 'string' },
      'cache-write-price': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!command) throw new CommandError(`no command given\n${USAGE}`);
  switch (command) {
    case 'start':
      return start(config, values.seed, values.demo);
    case 'init': {
      // `--admin` is a boolean flag elsewhere, so the admin's name is the positional after it.
      const username = sub;
      if (!values.admin || !username) throw new CommandError('usage: chatgraph init --admin <username> [--name NAME]');
      const database = await openDatabase(config, { onProgress: progress });
      try {
        const token = await initialise(database.db, username, values.name);
        process.stdout.write(`${token}\n`);
      } finally {
        await database.close();
      }
      return;
    }
    case 'model':
      if (sub === 'create') {
        if (!values.provider || !values.model) throw new CommandError('usage: chatgraph model create --provider P --model M [--default] [--input-price USD] …');
        const contextLimit = parseContextLimit(values['context-limit']);
        const { insertModelConfig } = await import('./resolvers/models.js');
        return withDatabase(config, async (db) => {
          const row = await insertModelConfig(db, {
            provider: values.provider,
            model: values.model,
            displayName: values['display-name'],
            contextLimit,
            isDefault: values.default,
            enabled: !values.disabled,
            inputPricePerMillionTokens: values['input-price'],
            outputPricePerMillionTokens: values['output-price'],
            cacheReadPricePerMillionTokens: values['cache-read-price'],
            cacheWritePricePerMillionTokens: values['cache-write-price'],
          });
          process.stdout.write(`${row.id}\n`);
        });
      }
      if (sub === 'list') {
        return withDatabase(config, async (db) => {
          for (const m of await db.modelConfigs.list(true)) {
            const flags = [m.is_default ? 'default' : '', m.enabled ? 'enabled' : 'disabled'].filter(Boolean).join(',');
            const prices = [m.input_price, m.output_price, m.cache_read_price, m.cache_write_price].map((p) => p ?? '-').join('/');
            process.stdout.write([m.id, m.provider, m.model, flags, prices].join('\t') + '\n');
          }
        });
      }
      throw new CommandError('usage: chatgraph model create --provider P --model M … | model list');
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
  let message = err instanceof Error ? err.message : String(err);
  // node:util parseArgs explains a bad option over several lines; the first says what is wrong.
  if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) message = message.split('\n')[0]!;
  process.stderr.write(`chatgraph: ${message}\n`);
  process.exit(1);
});
