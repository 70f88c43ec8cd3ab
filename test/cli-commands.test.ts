import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';

// The CLI as an operator runs it, on an external database (DATABASE_URL): real processes, no embedded Postgres.
const root = new URL('..', import.meta.url).pathname;
vi.setConfig({ testTimeout: 60_000 });

let fresh: TestDatabase;

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(root, 'bin/chatgraph.js'), ...args], {
    env: { ...process.env, DATABASE_URL: fresh.url, LOG_LEVEL: 'warn', PORT: '0', ...env },
    encoding: 'utf8',
    timeout: 45_000,
  });
}

beforeAll(async () => {
  // An empty database, not a clone of the migrated template: `init` must take it from nothing.
  fresh = await createTestDatabase({ template: false, poolSize: 2 });
});
afterAll(() => fresh?.close());

describe('first run on an external Postgres', () => {
  it('init --admin migrates, creates the admin and prints a working admin token; model create makes a default', async () => {
    const init = cli(['init', '--admin', 'root', '--name', 'Root']);
    expect({ status: init.status, stderr: init.stderr }).toMatchObject({ status: 0 });
    expect(init.stderr).toMatch(/applying migration 0001_/);
    expect(init.stderr).toMatch(/creating admin user root/);
    const token = init.stdout.trim();
    expect(token).toMatch(/^cg_[0-9a-f]{32}_\S+$/);
    const admin = await fresh.db.one<{ name: string; is_admin: boolean }>('SELECT name, is_admin FROM users WHERE username = $1', ['root']);
    expect(admin).toEqual({ name: 'Root', is_admin: true });
    const scopes = await fresh.db.one<{ scopes: string[] }>('SELECT scopes FROM api_tokens WHERE user_id = (SELECT id FROM users WHERE username = $1)', ['root']);
    expect(scopes.scopes.sort()).toEqual(['admin', 'user']);

    const model = cli(['model', 'create', '--provider', 'anthropic', '--model', 'claude-sonnet-4', '--default', '--input-price', '3', '--output-price', '15', '--cache-read-price', '0.3']);
    expect({ status: model.status, stderr: model.stderr }).toEqual({ status: 0, stderr: '' });
    const id = model.stdout.trim();
    const row = await fresh.db.one('SELECT provider, model, display_name, is_default, enabled, context_limit, input_price, output_price, cache_read_price, cache_write_price FROM chat_model_configs WHERE id = $1', [id]);
    expect(row).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4',
      display_name: 'claude-sonnet-4',
      is_default: true,
      enabled: true,
      context_limit: '200000',
      input_price: '3',
      output_price: '15',
      cache_read_price: '0.3',
      cache_write_price: null,
    });
    const list = cli(['model', 'list']);
    expect(list.stdout.trim()).toBe(`${id}\tanthropic\tclaude-sonnet-4\tdefault,enabled\t3/15/0.3/-`);

    // A second init is harmless: same admin, another token.
    const again = cli(['init', '--admin', 'root']);
    expect(again.status).toBe(0);
    expect(again.stdout.trim()).not.toBe(token);
    expect(await fresh.db.one('SELECT count(*)::int AS n FROM users')).toEqual({ n: 1 });
  });

  it('bad model input is one line, exit 1, and writes nothing', async () => {
    const before = await fresh.db.any('SELECT id FROM chat_model_configs ORDER BY id');
    const badPrice = cli(['model', 'create', '--provider', 'x', '--model', 'y', '--input-price', '3 USD']);
    expect({ status: badPrice.status, lines: badPrice.stderr.trim().split('\n').length }).toEqual({ status: 1, lines: 1 });
    expect(badPrice.stderr).toMatch(/^chatgraph: inputPricePerMillionTokens must be a non-negative decimal/);
    const badLimit = cli(['model', 'create', '--provider', 'x', '--model', 'y', '--context-limit', 'lots']);
    expect({ status: badLimit.status, stderr: badLimit.stderr }).toEqual({ status: 1, stderr: 'chatgraph: --context-limit must be a positive integer of tokens, got "lots"\n' });
    expect(await fresh.db.any('SELECT id FROM chat_model_configs ORDER BY id')).toEqual(before);
  });

  it('user create <name> --admin without --name works (the name defaults to empty)', async () => {
    const r = cli(['user', 'create', 'ops', '--admin']);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(await fresh.db.one('SELECT name, is_admin FROM users WHERE id = $1', [r.stdout.trim()])).toEqual({ name: '', is_admin: true });
  });
});

describe('one line, non-zero, for every way a command can be wrong', () => {
  it('no command prints the usage on stderr and exits 1; --help exits 0', () => {
    const none = cli([]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^chatgraph: no command given\nusage: chatgraph <command>/);
    expect(none.stdout).toBe('');
    const help = cli(['--help']);
    expect({ status: help.status, stdout: help.stdout.split('\n')[0] }).toEqual({ status: 0, stdout: 'usage: chatgraph <command>' });
  });

  it('LOG_LEVEL=loud is one line, not a pino stack', () => {
    const r = cli(['migrate'], { LOG_LEVEL: 'loud' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({
      status: 1,
      stderr: 'chatgraph: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\n',
    });
  });

  let blocker: Server;
  afterAll(() => new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve())));

  it('a port in use and a bad HOST are one line each, and the process exits', async () => {
    blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)));
    const inUse = await run(['start'], { PORT: String(port) });
    expect(inUse).toEqual({ code: 1, stderr: `chatgraph: cannot listen on 127.0.0.1:${port}: the port is already in use (set PORT to another port)\n` });
    const badHost = await run(['start'], { HOST: 'no-such-host.invalid' });
    expect(badHost).toEqual({ code: 1, stderr: 'chatgraph: cannot listen on no-such-host.invalid:0: HOST is not an address of this machine (use 127.0.0.1 or 0.0.0.0)\n' });
  });
});

/** Runs a command that would serve; resolves when it exits (a test timeout means it kept running). */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'bin/chatgraph.js'), ...args], {
    env: { ...process.env, DATABASE_URL: fresh.url, LOG_LEVEL: 'warn', PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}
