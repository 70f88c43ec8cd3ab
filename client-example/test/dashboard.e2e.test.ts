import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/auth/admin.js';
import { seedDemo } from '../../src/db/seed.js';
import { decodeId } from '../../src/schema/globalIds.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { costRange, daysBefore, formatCount, formatUsd, isoDay } from '../src/format.js';

// The dashboard in headless Chromium against a real gateway on a fresh, seeded database: the
// production build served by `vite preview`, which proxies /graphql (HTTP and WebSocket) to the
// gateway exactly as `npm run dev` does. The test plays the chat worker over the API.

const clientDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const shots = join(clientDir, 'test-results');
const WORKER_ID = 'e2e-worker';

let database: TestDatabase;
let server: TestServer;
let preview: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let alice: string;
let worker: string;
let dashboardUrl: string;

function run(command: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: clientDir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (${code}): ${stderr}`))));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function api<T>(query: string, variables: Record<string, unknown> = {}, token = alice): Promise<T> {
  const response = await server.gql<T>(query, variables, token);
  expect(response.errors).toBeUndefined();
  return response.data as T;
}

async function chatId(title: string): Promise<string> {
  const data = await api<{ chats: { nodes: Array<{ id: string; title: string }> } }>('{ chats(first: 50) { nodes { id title } } }');
  return data.chats.nodes.find((c) => c.title === title)!.id;
}

let previewPort: number;
let offline = false;

/** `vite preview` of the build, proxying /graphql (HTTP and WebSocket) to the test gateway. */
async function startPreview(): Promise<void> {
  const vite = join(clientDir, 'node_modules', 'vite', 'bin', 'vite.js');
  preview = spawn(process.execPath, [vite, 'preview', '--port', String(previewPort), '--strictPort'], {
    cwd: clientDir,
    env: { ...process.env, CHATGRAPH_URL: server.url.replace(/\/graphql$/, '') },
    stdio: 'ignore',
  });
  for (const started = Date.now(); (await fetch(dashboardUrl).catch(() => null))?.status !== 200;) {
    if (Date.now() - started > 30_000) throw new Error(`vite preview did not answer on ${dashboardUrl}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stopPreview(): Promise<void> {
  const child = preview;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const sidebarItem = (id: string) => page.locator(`[data-testid="chats"] a[data-chat-id="${id}"]`);

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemo(database.db);
  alice = (await createToken(database.db, { username: 'alice', scopes: ['user'] })).token;
  worker = (await createToken(database.db, { username: 'worker', scopes: ['worker'] })).token;
  server = await startTestServer(database.db);

  const vite = join(clientDir, 'node_modules', 'vite', 'bin', 'vite.js');
  await run(process.execPath, [vite, 'build', '--logLevel', 'error']);
  previewPort = await freePort();
  dashboardUrl = `http://127.0.0.1:${previewPort}/`;
  await startPreview();

  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  // Debian's chromium, never a browser downloaded by a tool (.ci/run installs it).
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  // What the page reports as broken is printed, so a failure here explains itself.
  page.on('pageerror', (err) => console.error('[browser] uncaught:', err.message));
  page.on('console', (message) => {
    // Refused reconnects are what the disconnect test expects; anything else is printed.
    if (message.type() === 'error' && !(offline && /WebSocket connection .* failed/.test(message.text()))) console.error('[browser]', message.text());
  });
  mkdirSync(shots, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await stopPreview();
  await server?.stop();
  await database?.close();
});

describe('the dashboard in a browser', () => {
  it('signs in with a token and lists the chats, sub-agents under their root, archived hidden', async () => {
    await page.goto(dashboardUrl);
    await page.getByLabel('API token').fill(alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('[data-testid="chats"] a[data-chat-id]').count(), { timeout: 15_000 }).toBeGreaterThan(3);
    const titles = await page.locator('[data-testid="chats"] .chat-list > li > a .title').allTextContents();
    expect(titles).toContain('Add dark mode');
    expect(titles).not.toContain('Old experiment'); // archived
    expect(titles).not.toContain('Sub-agent: write migration'); // nested, not top level
    await expect.poll(() => page.locator('.children .title', { hasText: 'Sub-agent: write migration' }).count()).toBe(1);
    await expect.poll(() => page.getByTestId('connection').textContent(), { timeout: 15_000 }).toBe('live');
  });

  it('queues a message sent while the chat is busy (with its model), streams the reply part by part, then shows the message promoted and the status change live', async () => {
    // A chat the worker is running: created over the API (it appears live), then claimed.
    const { modelConfigs } = await api<{ modelConfigs: Array<{ id: string; displayName: string }> }>('{ modelConfigs { id displayName } }');
    const gpt = modelConfigs.find((m) => m.displayName === 'GPT-4.1')!.id;
    const created = await api<{ createChat: { chat: { id: string } } }>(
      `mutation { createChat(input: { title: "Write the release notes", modelConfigId: "${gpt}", content: [{ type: TEXT, text: "Draft them" }] }) { ... on ChatMessagePayload { chat { id } } } }`);
    const id = created.createChat.chat.id;
    const acquired = await api<{ acquireChats: { chats: Array<{ id: string }> } }>(
      `mutation { acquireChats(input: { workerId: "${WORKER_ID}", limit: 10 }) { ... on AcquireChatsPayload { chats { id } } } }`, {}, worker);
    expect(acquired.acquireChats.chats.map((c) => c.id)).toContain(id);
    await expect.poll(() => sidebarItem(id).count(), { timeout: 15_000 }).toBe(1);
    await sidebarItem(id).click();
    await expect.poll(() => page.getByTestId('chat-status').textContent()).toBe('Running');
    // A marker on window survives only if the page is never reloaded.
    await page.evaluate(() => ((window as unknown as { e2eMarker: number }).e2eMarker = 1));

    await page.getByRole('textbox', { name: 'Message' }).fill('Also support the system theme');
    await page.getByLabel('Model for this turn').selectOption({ label: 'Claude Sonnet 4.5' });
    await page.getByRole('button', { name: 'Queue' }).click();
    const queued = page.getByTestId('queued-message');
    await expect.poll(() => queued.count()).toBe(1);
    expect(await queued.locator('.queued-text').textContent()).toBe('Also support the system theme');
    expect(await queued.getByTestId('queued-model').textContent()).toBe('Claude Sonnet 4.5');
    await page.screenshot({ path: join(shots, 'queued.png') });

    // The worker streams the reply part by part: the chat view shows it as it grows.
    for (const [seq, text] of ['Dark mode is ', 'almost done'].entries()) {
      await api(`mutation($i: PublishChatMessagePartsInput!) { publishChatMessageParts(input: $i) { __typename } }`, {
        i: { chatId: id, workerId: WORKER_ID, attempt: 1, seq, parts: [{ type: 'text', text }] },
      }, worker);
    }
    await expect.poll(() => page.getByTestId('preview').locator('.text').textContent(), { timeout: 15_000 }).toBe('Dark mode is almost done');

    // The worker finishes the run: the stored reply replaces the preview, and the queued
    // message is promoted in the same transaction.
    await api(`mutation($i: AppendChatMessagesInput!) { appendChatMessages(input: $i) { __typename } }`, {
      i: {
        chatId: id, workerId: WORKER_ID,
        messages: [{ role: 'ASSISTANT', parts: [{ type: 'text', text: 'Dark mode is done; the toggle lives in settings.' }], usage: { inputTokens: '1200', outputTokens: '300' } }],
      },
    }, worker);
    const finish = await api<{ finishChatRun: { finished: boolean } }>(
      `mutation($c: ID!) { finishChatRun(input: { chatId: $c, workerId: "${WORKER_ID}", status: WAITING }) { ... on FinishChatRunPayload { finished } } }`,
      { c: id }, worker);
    expect(finish.finishChatRun.finished).toBe(true);

    await expect.poll(() => page.getByTestId('chat-status').textContent(), { timeout: 15_000 }).toBe('Pending');
    await expect.poll(() => queued.count()).toBe(0);
    expect(await page.getByTestId('preview').count()).toBe(0);
    const transcript = page.getByTestId('message');
    await expect.poll(async () => (await transcript.allTextContents()).slice(-2).map((t) => t.includes('Dark mode is done') || t.includes('Also support the system theme')))
      .toEqual([true, true]);
    expect(await transcript.last().textContent()).toContain('Also support the system theme');
    expect(await transcript.last().textContent()).toContain('Claude Sonnet 4.5');
    await expect.poll(() => sidebarItem(id).getAttribute('data-chat-status')).toBe('PENDING');
    // The reply arrived while the chat was open, so it is read (no unread dot).
    await expect.poll(() => sidebarItem(id).locator('.unread').count()).toBe(0);
    expect(await sidebarItem(await chatId('Fix flaky login test')).locator('.unread').count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { e2eMarker?: number }).e2eMarker)).toBe(1);
    await page.screenshot({ path: join(shots, 'dashboard.png') });
  });

  it('a queue change that does not add up (another one was never announced) refetches the queue, the chat staying on screen', async () => {
    const created = await api<{ createChat: { chat: { id: string } } }>(
      `mutation { createChat(input: { title: "Queue that does not add up", content: [{ type: TEXT, text: "hi" }] }) { ... on ChatMessagePayload { chat { id } } } }`);
    const id = created.createChat.chat.id;
    await expect.poll(() => sidebarItem(id).count(), { timeout: 15_000 }).toBe(1);
    await sidebarItem(id).click();
    await expect.poll(() => page.locator(`[data-testid="chat-view"][data-chat-id="${id}"]`).count()).toBe(1);
    // Records whether the chat view ever goes away (a query left without its chat for a moment).
    await page.evaluate(() => {
      const w = window as unknown as { e2eViewGone?: boolean };
      w.e2eViewGone = false;
      new MutationObserver(() => (w.e2eViewGone ||= !document.querySelector('[data-testid="chat-view"]'))).observe(document.body, { childList: true, subtree: true });
    });
    const content = (text: string) => JSON.stringify([{ type: 'text', text }]);
    const chat = decodeId(id, 'Chat', 'id');
    // A queued message no event announces (triggers off for this transaction), then one that is
    // announced: its queueChange adds one message to an empty queue and says the queue is 2 long.
    await database.db.tx(async (t) => {
      await t.none('SET LOCAL session_replication_role = replica');
      await t.none('INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, $2::jsonb)', [chat, content('never announced')]);
    });
    await database.db.none('INSERT INTO chat_queued_messages (chat_id, content) VALUES ($1, $2::jsonb)', [chat, content('announced')]);
    const queued = page.getByTestId('queued-message').locator('.queued-text');
    await expect.poll(() => queued.allTextContents(), { timeout: 15_000 }).toEqual(['never announced', 'announced']);
    await expect.poll(() => sidebarItem(id).locator('.badge').textContent()).toBe('2');
    expect(await page.evaluate(() => (window as unknown as { e2eViewGone?: boolean }).e2eViewGone)).toBe(false);
    expect(await page.evaluate(() => (window as unknown as { e2eMarker?: number }).e2eMarker)).toBe(1);
  });

  it('shows a chat created elsewhere, and takes a chat out of the sidebar when it is archived', async () => {
    const created = await api<{ createChat: { chat: { id: string } } }>(
      `mutation { createChat(input: { title: "Made by the API", content: [{ type: TEXT, text: "hello" }] }) { ... on ChatMessagePayload { chat { id } } } }`);
    const id = created.createChat.chat.id;
    await expect.poll(() => sidebarItem(id).count(), { timeout: 15_000 }).toBe(1);

    await sidebarItem(id).click();
    await page.getByRole('button', { name: 'Archive' }).click();
    await expect.poll(() => sidebarItem(id).count(), { timeout: 15_000 }).toBe(0);
    await page.getByLabel('Show archived').check();
    await expect.poll(() => page.locator(`[data-testid="archived-chats"] a[data-chat-id="${id}"]`).count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { e2eMarker?: number }).e2eMarker)).toBe(1);
  });

  it('after a disconnect it resumes from its cursor: a change made while it was offline arrives, without a reload', async () => {
    const id = await chatId('Fix flaky login test');
    offline = true;
    await stopPreview(); // the page's WebSocket goes through the preview's proxy: it drops
    await expect.poll(() => page.getByTestId('connection').textContent(), { timeout: 15_000 }).toBe('reconnecting…');
    await api('mutation($c: ID!) { updateChat(input: { chatId: $c, title: "Fix flaky login test (renamed offline)" }) { __typename } }', { c: id });
    await startPreview();
    await expect.poll(() => sidebarItem(id).locator('.title').textContent(), { timeout: 20_000 }).toBe('Fix flaky login test (renamed offline)');
    expect(await page.getByTestId('connection').textContent()).toBe('live');
    offline = false;
    expect(await page.evaluate(() => (window as unknown as { e2eMarker?: number }).e2eMarker)).toBe(1);
  });

  it('the cost view shows the totals the API reports for the same range', async () => {
    await page.getByRole('link', { name: 'Costs' }).click();
    await expect.poll(() => page.getByTestId('by-chat').locator('tbody tr').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const today = new Date();
    const { costSummary: expected } = await api<{ costSummary: Record<string, string | number> & { byChat: unknown[]; byModel: unknown[] } }>(
      `query($s: DateTime, $e: DateTime) { costSummary(startDate: $s, endDate: $e) {
        totalCostMicros totalInputTokens totalOutputTokens totalCacheReadTokens totalCacheCreationTokens messageCount byChat { rootChatId } byModel { modelConfigId } } }`,
      (({ startDate, endDate }) => ({ s: startDate, e: endDate }))(costRange(isoDay(daysBefore(today, 29)), isoDay(today))));
    expect(Number(expected.totalCostMicros)).toBeGreaterThan(0);
    const card = (testId: string) => page.getByTestId(testId).locator('.card-value').textContent();
    expect(await card('total-cost')).toBe(formatUsd(String(expected.totalCostMicros)));
    expect(await card('input-tokens')).toBe(formatCount(expected.totalInputTokens!));
    expect(await card('output-tokens')).toBe(formatCount(expected.totalOutputTokens!));
    expect(await card('cache-read-tokens')).toBe(formatCount(expected.totalCacheReadTokens!));
    expect(await card('cache-write-tokens')).toBe(formatCount(expected.totalCacheCreationTokens!));
    expect(await card('messages')).toBe(formatCount(expected.messageCount!));
    expect(await page.getByTestId('by-chat').locator('tbody tr').count()).toBe(expected.byChat.length);
    expect(await page.getByTestId('by-model').locator('tbody tr').count()).toBe(expected.byModel.length);
    await page.screenshot({ path: join(shots, 'costs.png') });
  });
});
