import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

// End to end through the real CLI on its own embedded Postgres (not the suite's shared server).
const root = new URL('..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'chatgraph-cli-'));
chmodSync(dataDir, 0o755); // mkdtemp makes 0700; as root, the postgres OS user must traverse it
const env = { ...process.env, CHATGRAPH_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', DATABASE_URL: '' };
const children: ChildProcess[] = [];

// Real processes (tsx start-up, initdb, Postgres start) are slow on a loaded 2-core machine.
vi.setConfig({ testTimeout: 180_000 });

interface Started {
  child: ChildProcess;
  url: string;
  tokens: Record<string, string>;
  output: () => string;
}

function cli(args: string[]) {
  return spawnSync(process.execPath, [join(root, 'bin/chatgraph.js'), ...args], { env, encoding: 'utf8', timeout: 60_000 });
}

function startServer(...flags: string[]): Promise<Started> {
  return launch(process.execPath, [join(root, 'bin/chatgraph.js'), 'start', ...flags]);
}

/** Starts the server through any launcher (node, npm start, npx) and resolves once it serves. */
function launch(command: string, args: string[]): Promise<Started> {
  const child = spawn(command, args, { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start timed out\n${out}\n${err}`)), 90_000);
    child.on('exit', (code) => reject(new Error(`exited ${code}\n${out}\n${err}`)));
    child.stdout!.on('data', () => {
      const url = /serving GraphQL at (\S+)/.exec(out)?.[1];
      if (url && /worker\s+cg_\S+/.test(out)) {
        clearTimeout(timer);
        const tokens = Object.fromEntries([...out.matchAll(/^\s+(\w+)\s+(cg_\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
        resolve({ child, url, tokens, output: () => out + err });
      }
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

/** Waits for a clean exit; on failure the assertion shows what the process printed. */
async function expectCleanExit(s: Started): Promise<void> {
  const code = await exited(s.child);
  expect({ code, output: code === 0 ? '' : s.output() }).toEqual({ code: 0, output: '' });
}

/** Every process of ours still alive: npm, sh, node (by their environment) and Postgres (by its data dir). */
function ourProcesses(): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
        return cmdline.includes(dataDir) || environ.split('\0').includes(`CHATGRAPH_DATA_DIR=${dataDir}`) ? [`${pid} ${cmdline.replaceAll('\0', ' ').trim()}`] : [];
      } catch {
        return [];
      }
    });
}

/** Pids of postgres processes serving our data directory. */
function ourPostgres(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

async function viewer(url: string, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: '{ viewer { username } }' }),
  });
  return res.json() as Promise<{ data?: { viewer: { username: string } } | null; errors?: Array<{ extensions: { code: string } }> }>;
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pid of ourPostgres()) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('chatgraph CLI on the embedded database', () => {
  let firstTokens: Record<string, string>;

  it('start: seeds on first run, serves GraphiQL and viewer, SIGTERM leaves no postgres behind', async () => {
    const s = await startServer();
    firstTokens = s.tokens;
    // The first start says what it is doing while it sets up Postgres, in order.
    expect(s.output()).toMatch(/initialising a new database cluster[\s\S]*starting the embedded Postgres[\s\S]*applying migration 0001_[\s\S]*seeding demo data/);
    expect(Object.keys(s.tokens).sort()).toEqual(['admin', 'alice', 'bob', 'worker']);
    expect((await viewer(s.url, s.tokens.alice)).data).toEqual({ viewer: { username: 'alice' } });
    expect((await viewer(s.url)).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    const page = await fetch(s.url, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(html).toContain('<title>chatgraph</title>');
    expect(html).not.toMatch(/unpkg\.com|cdn\.jsdelivr/); // self-contained, works offline
    expect(html).toContain(s.tokens.alice); // demo headers prefilled
    expect(ourPostgres().length).toBeGreaterThan(0);
    s.child.kill('SIGTERM');
    await expectCleanExit(s);
    expect(ourPostgres()).toEqual([]);
  });

  it('a second start reuses the data: same tokens, no reseed; --demo drives a run', async () => {
    const s = await startServer('--demo');
    expect(s.tokens).toEqual(firstTokens);
    // CLI commands attach to the running server's embedded Postgres.
    const list = cli(['token', 'list', 'alice']);
    expect(list.status).toBe(0);
    expect(list.stdout.trim().split('\n')).toHaveLength(1);
    const users = cli(['user', 'create', 'carol', '--name', 'Carol']);
    expect(users.status).toBe(0);
    expect(users.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
    const token = cli(['token', 'create', 'carol', '--scope', 'user', '--expires-in', '1d']);
    expect(token.status).toBe(0);
    expect((await viewer(s.url, token.stdout.trim())).data).toEqual({ viewer: { username: 'carol' } });
    // The demo worker acquires bob's pending chat and answers it.
    const bobsChat = async () => {
      const res = await fetch(s.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${s.tokens.bob}` },
        body: JSON.stringify({ query: '{ chats { nodes { title lastTurnSummary } } }' }),
      });
      return ((await res.json()) as { data: { chats: { nodes: Array<{ lastTurnSummary: string | null }> } } }).data.chats.nodes[0]?.lastTurnSummary;
    };
    await expect.poll(bobsChat, { timeout: 60_000, interval: 500 }).not.toBeNull();
    const dup = cli(['user', 'create', 'carol']);
    expect(dup.status).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    s.child.kill('SIGINT');
    await expectCleanExit(s);
    expect(ourPostgres()).toEqual([]);
  });

  it('recovers after the process was SIGKILLed (leftover postmaster)', async () => {
    const s = await startServer();
    s.child.kill('SIGKILL');
    await exited(s.child);
    expect(ourPostgres().length).toBeGreaterThan(0); // orphaned
    const again = await startServer();
    expect((await viewer(again.url, again.tokens.bob)).data).toEqual({ viewer: { username: 'bob' } });
    again.child.kill('SIGTERM');
    await expectCleanExit(again);
    expect(ourPostgres()).toEqual([]);
  });

  it.each([
    ['npm start', 'SIGTERM', 'npm', ['start']],
    ['npx chatgraph start', 'SIGTERM', 'npx', ['chatgraph', 'start']],
    ['npm start', 'SIGINT', 'npm', ['start']],
  ] as const)('%s: %s to the started PID stops everything (no orphaned node or Postgres)', async (_name, signal, command, args) => {
    const s = await launch(command, [...args]);
    expect((await viewer(s.url, s.tokens.alice)).data).toEqual({ viewer: { username: 'alice' } });
    s.child.kill(signal);
    await exited(s.child);
    // npm exits once its child did; anything below it must be gone by then or very soon after.
    await expect.poll(ourProcesses, { timeout: 15_000, interval: 250 }).toEqual([]);
    expect((await fetch(s.url.replace('/graphql', '/ready')).catch((err: Error) => err)) instanceof Error).toBe(true);
  });

  it('a port in use fails with one line and leaves no embedded Postgres behind', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as AddressInfo).port)));
    try {
      const child = spawn(process.execPath, [join(root, 'bin/chatgraph.js'), 'start'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await exited(child);
      // Progress lines come first; the failure is the last line, and the only one that is not progress.
      const failures = stderr.trim().split('\n').filter((line) => !/…$/.test(line));
      expect({ code, failures }).toEqual({ code: 1, failures: [`chatgraph: cannot listen on 127.0.0.1:${port}: the port is already in use (set PORT to another port)`] });
      expect(ourPostgres()).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('bad commands fail with one line and a non-zero status', () => {
    const r = cli(['token', 'create', 'nobody']);
    expect({ status: r.status, stderr: r.stderr.trim() }).toEqual({ status: 1, stderr: 'chatgraph: no user "nobody"' });
    expect(cli(['frobnicate']).status).toBe(1);
  });
});
