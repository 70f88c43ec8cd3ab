import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertModels } from '../../test/helpers/data.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.js';
import { makeUser } from '../../test/helpers/fixtures.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';

// The terminal watcher as a real process against a real gateway: it prints events, and after a
// restart it resumes from its cursor file, printing what happened while it was down exactly once.

const clientDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(clientDir, 'node_modules', 'tsx', 'dist', 'cli.mjs');

let database: TestDatabase;
let server: TestServer;
let token: string;
let dir: string;
const running: ChildProcess[] = [];

interface Watcher {
  lines: string[];
  stop(): Promise<void>;
}

async function startWatcher(cursorFile: string): Promise<Watcher> {
  const before = server.app.liveSubscriptions;
  const child = spawn(process.execPath, [tsx, 'watch.ts', '--cursor-file', cursorFile], {
    cwd: clientDir,
    env: { ...process.env, CHATGRAPH_URL: server.url, CHATGRAPH_TOKEN: token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  const lines: string[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    lines.push(...complete);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await expect.poll(() => server.app.liveSubscriptions > before || child.exitCode !== null, { timeout: 20_000 }).toBe(true);
  expect(child.exitCode, stderr).toBeNull();
  return {
    lines,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}

const gql = async <T>(query: string, variables?: Record<string, unknown>) => {
  const response = await server.gql<T>(query, variables, token);
  expect(response.errors).toBeUndefined();
  return response.data as T;
};

beforeAll(async () => {
  database = await createTestDatabase();
  await insertModels(database.db);
  ({ token } = await makeUser(database.db));
  server = await startTestServer(database.db);
  dir = mkdtempSync(join(tmpdir(), 'chatgraph-watch-'));
});

afterAll(async () => {
  for (const child of running) if (child.exitCode === null) child.kill('SIGTERM');
  await server?.stop();
  await database?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('client-example/watch.ts', () => {
  it('prints kind, title, status and model as events happen, and resumes from its cursor file after a restart', async () => {
    const cursorFile = join(dir, 'cursor');
    const first = await startWatcher(cursorFile);
    const created = await gql<{ createChat: { chat: { id: string } } }>(
      'mutation { createChat(input: { title: "Watch me", content: [{ type: TEXT, text: "hi" }] }) { ... on ChatMessagePayload { chat { id } } } }');
    const chatId = created.createChat.chat.id;
    await expect.poll(() => first.lines.length, { timeout: 15_000 }).toBe(1);
    expect(first.lines[0]).toMatch(/^\d\d:\d\d:\d\d {2}CREATED +"Watch me" {2}PENDING {2}Claude$/);
    await first.stop();
    const cursorAfterFirst = readFileSync(cursorFile, 'utf8').trim();
    expect(cursorAfterFirst).not.toBe('');

    // While the watcher is down: a rename and an archive.
    await gql('mutation($c: ID!) { updateChat(input: { chatId: $c, title: "Watched" }) { __typename } }', { c: chatId });
    await gql('mutation($c: ID!) { archiveChat(input: { chatId: $c }) { __typename } }', { c: chatId });

    const second = await startWatcher(cursorFile);
    const kinds = () => second.lines.map((l) => l.split(/ {2,}/)[1]);
    await expect.poll(() => ['TITLE_CHANGE', 'DELETED'].every((k) => kinds().includes(k)), { timeout: 15_000 }).toBe(true);
    // Nothing from before the cursor comes again (the archive may add a STATUS_CHANGE: pending → waiting).
    expect(kinds()).not.toContain('CREATED');
    expect(kinds().filter((k) => k === 'TITLE_CHANGE')).toHaveLength(1);
    expect(second.lines.every((l) => l.includes('"Watched"'))).toBe(true);
    await second.stop();
    expect(readFileSync(cursorFile, 'utf8').trim()).not.toBe(cursorAfterFirst);
    expect(existsSync(`${cursorFile}.tmp`)).toBe(false);
  });
});
