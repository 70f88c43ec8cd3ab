import { request as httpRequest } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createToken } from '../src/auth/admin.js';
import { seedDemo } from '../src/db/seed.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// GraphiQL in a real headless Chromium (Debian's, never a downloaded one) against a real server.
vi.setConfig({ testTimeout: 120_000 });

let database: TestDatabase;
let server: TestServer;
let rejected: TestServer;
let browser: Browser;
let alice: string;
let chatId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await seedDemo(database.db);
  alice = (await createToken(database.db, { username: 'alice', name: 'graphiql' })).token;
  server = await startTestServer(database.db, {}, { graphiql: { headers: { Authorization: `Bearer ${alice}` } } });
  // The same page with a token that the server rejects: the failure must be visible.
  rejected = await startTestServer(database.db, {}, { graphiql: { headers: { Authorization: 'Bearer cg_00000000000000000000000000000000_nope' } } });
  const chats = await server.gql<{ chats: { nodes: Array<{ id: string }> } }>('{ chats(first: 1, archived: false) { nodes { id } } }', {}, alice);
  chatId = chats.data!.chats.nodes[0]!.id;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await rejected?.stop();
  await server?.stop();
  await database?.close();
});

/** Opens GraphiQL with `query` in the editor, collecting any request that leaves 127.0.0.1. */
async function openGraphiql(target: TestServer, query: string) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const external: string[] = [];
  // Frames GraphiQL receives over WebSockets: the subscription must run over graphql-ws.
  const wsFrames: string[] = [];
  page.on('websocket', (ws) => ws.on('framereceived', (frame) => wsFrames.push(String(frame.payload))));
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'blob:' || url.protocol === 'data:' || url.hostname === '127.0.0.1') return route.continue();
    external.push(url.href);
    return route.abort();
  });
  await page.goto(`${target.url}?query=${encodeURIComponent(query)}`);
  await page.locator('.graphiql-execute-button').waitFor({ timeout: 60_000 });
  return { page, external, wsFrames, close: () => context.close() };
}

/** Text of GraphiQL's result pane. */
async function resultPane(page: import('playwright-core').Page): Promise<string> {
  return (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
}

describe('GraphiQL', () => {
  it('runs a chatWatch subscription over the WebSocket with the token from its headers and shows the event', async () => {
    const { page, external, wsFrames, close } = await openGraphiql(server, 'subscription Watch { chatWatch { kind chat { title } } }');
    try {
      await page.locator('.graphiql-execute-button').click();
      // Rename the chat until the event shows: the socket may still be connecting at the first rename.
      let n = 0;
      await expect
        .poll(
          async () => {
            await server.gql('mutation($id: ID!, $t: String!) { updateChat(input: { chatId: $id, title: $t }) { __typename } }', { id: chatId, t: `Seen in GraphiQL ${++n}` }, alice);
            return resultPane(page);
          },
          { timeout: 60_000, interval: 1000 },
        )
        .toMatch(/"kind": "TITLE_CHANGE".*"title": "Seen in GraphiQL \d+"/);
      expect(wsFrames.some((f) => f.includes('"type":"connection_ack"'))).toBe(true);
      expect(wsFrames.some((f) => /"type":"next".*Seen in GraphiQL/.test(f))).toBe(true);
      expect(external).toEqual([]); // works offline: nothing is fetched from a CDN
    } finally {
      await close();
    }
  });

  it('shows a rejected token as an error in the result pane instead of spinning', async () => {
    const { page, close } = await openGraphiql(rejected, 'subscription Watch { chatWatch { kind } }');
    try {
      await page.locator('.graphiql-execute-button').click();
      await expect.poll(() => resultPane(page), { timeout: 30_000, interval: 500 }).toMatch(/4403 Forbidden/);
    } finally {
      await close();
    }
  });

  it('serves the page compressed, revalidated by ETag', async () => {
    const raw = (headers: Record<string, string>) =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: number }>((resolve, reject) => {
        const req = httpRequest(server.url, { headers: { accept: 'text/html', ...headers } }, (res) => {
          let bytes = 0;
          res.on('data', (d: Buffer) => (bytes += d.length));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes }));
        });
        req.on('error', reject);
        req.end();
      });
    const plain = await raw({});
    const br = await raw({ 'accept-encoding': 'gzip, deflate, br' });
    const gz = await raw({ 'accept-encoding': 'gzip' });
    expect({ plain: plain.headers['content-encoding'], br: br.headers['content-encoding'], gz: gz.headers['content-encoding'] }).toEqual({ plain: undefined, br: 'br', gz: 'gzip' });
    expect(plain.bytes).toBeGreaterThan(5_000_000);
    expect(br.bytes).toBeLessThan(plain.bytes / 3);
    expect(gz.bytes).toBeLessThan(plain.bytes / 3);
    expect(br.headers['cache-control']).toBe('private, no-cache');
    const again = await raw({ 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) });
    expect({ status: again.status, bytes: again.bytes }).toEqual({ status: 304, bytes: 0 });
  });
});
