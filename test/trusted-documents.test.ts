import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildManifest } from '../scripts/trusted-documents.js';
import { insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// TRUSTED_DOCUMENTS: a manifest generated from test documents; only those operations run, on both transports.
const root = new URL('..', import.meta.url).pathname;
vi.setConfig({ testTimeout: 60_000 });

let database: TestDatabase;
let server: TestServer;
let open: TestServer;
let user: TestUser;
let chatId: string;
let work: string;
let manifest: Record<string, string>;
const idOf = (name: string) => Object.entries(manifest).find(([, text]) => new RegExp(`^(query|mutation|subscription) ${name}\\b`).test(text))![0];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'chatgraph-trusted-'));
  const out = join(work, 'manifest.json');
  // The generator as a user runs it: a glob of .graphql and .ts documents.
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, ['--import', 'tsx', join(root, 'scripts/trusted-documents.ts'), 'test/fixtures/trusted/**/*.{graphql,ts}', '--out', out], { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout, stderr }),
    ),
  );
  expect(run).toEqual({ code: 0, stdout: `3 trusted documents from 3 files → ${out}\n`, stderr: '' });
  manifest = JSON.parse(readFileSync(out, 'utf8')) as Record<string, string>;
  database = await createTestDatabase();
  await insertModels(database.db);
  user = await makeUser(database.db);
  open = await startTestServer(database.db);
  const created = await open.gql<{ createChat: { chat: { id: string } } }>('mutation { createChat(input: { content: [{ type: TEXT, text: "hi" }] }) { ... on ChatMessagePayload { chat { id } } } }', {}, user.token);
  chatId = created.data!.createChat.chat.id;
  server = await startTestServer(database.db, { TRUSTED_DOCUMENTS: out });
});

afterAll(async () => {
  await server?.stop();
  await open?.stop();
  await database?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function post(body: Record<string, unknown>) {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } };
}

describe('the manifest generator', () => {
  it('makes one self-contained document per operation with the fragments it uses, keyed by its sha256', () => {
    expect(Object.values(manifest).map((t) => t.split('\n')[0]).sort()).toEqual([
      'mutation TrustedRename($chatId: ID!, $title: String!) {',
      'query TrustedDashboard {',
      'subscription TrustedWatch {',
    ]);
    expect(manifest[idOf('TrustedDashboard')]).toContain('fragment TrustedChatRow on Chat');
    expect(manifest[idOf('TrustedRename')]).not.toContain('fragment');
  });

  it('refuses documents that do not validate against schema.graphql', () => {
    const schema = readFileSync(join(root, 'schema.graphql'), 'utf8');
    expect(() => buildManifest(['query Bad { viewer { noSuchField } }'], schema)).toThrow(/operation Bad: Cannot query field "noSuchField"/);
    expect(() => buildManifest(['{ viewer { id } }'], schema)).toThrow(/needs a name/);
  });
});

describe('TRUSTED_DOCUMENTS mode', () => {
  it('runs a listed query by documentId or by extensions.persistedQuery.sha256Hash', async () => {
    const byId = await post({ documentId: idOf('TrustedDashboard') });
    expect(byId).toMatchObject({ status: 200, body: { data: { chats: { nodes: [{ id: chatId, title: 'New Chat' }] } } } });
    const apq = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: idOf('TrustedDashboard') } } });
    expect(apq.body.data).toEqual(byId.body.data);
  });

  it('refuses query text and unknown ids with a clear error, and writes nothing', async () => {
    const before = await database.db.any('SELECT * FROM chats ORDER BY id');
    const text = await post({ query: 'mutation($id: ID!) { updateChat(input: { chatId: $id, title: "nope" }) { __typename } }', variables: { id: chatId } });
    expect({ status: text.status, code: text.body.errors?.[0]?.extensions?.code, data: text.body.data }).toEqual({ status: 400, code: 'PERSISTED_QUERY_ONLY', data: undefined });
    expect(text.body.errors![0]!.message).toMatch(/trusted documents only/);
    expect(await database.db.any('SELECT * FROM chats ORDER BY id')).toEqual(before);
    const unknown = await post({ documentId: 'f'.repeat(64) });
    expect({ status: unknown.status, code: unknown.body.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'PERSISTED_QUERY_NOT_FOUND' });
    // The listed mutation works, with variables.
    const rename = await post({ documentId: idOf('TrustedRename'), variables: { chatId, title: 'Trusted' } });
    expect(rename.body).toEqual({ data: { updateChat: { __typename: 'ChatPayload' } } });
  });

  it('graphql-ws: a listed subscription runs by hash; query text is refused', async () => {
    const client = server.ws({ authToken: user.token });
    const refused = await new Promise<unknown>((resolve) =>
      client.subscribe({ query: 'subscription { chatWatch { kind } }' }, { next: resolve, error: resolve, complete: () => resolve('complete') }),
    );
    expect(JSON.stringify(refused)).toMatch(/PERSISTED_QUERY_ONLY|trusted documents only/);
    const events: unknown[] = [];
    client.subscribe({ query: '', extensions: { persistedQuery: { version: 1, sha256Hash: idOf('TrustedWatch') } } }, { next: (v) => events.push(v), error: (e) => events.push({ error: e }), complete: () => undefined });
    let n = 0;
    await expect
      .poll(
        async () => {
          await post({ documentId: idOf('TrustedRename'), variables: { chatId, title: `Watched ${++n}` } });
          return events.length;
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBeGreaterThan(0);
    expect(events[0]).toMatchObject({ data: { chatWatch: { kind: 'TITLE_CHANGE', chat: { id: chatId } } } });
  });

  it('a manifest that is not hash → document stops the server from starting', () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ 'not-a-hash': 'query X { viewer { id } }' }));
    return expect(startTestServer(database.db, { TRUSTED_DOCUMENTS: bad })).rejects.toThrow(/TRUSTED_DOCUMENTS: .*bad\.json: entry "not-a-hash" is not a sha256/);
  });
});
