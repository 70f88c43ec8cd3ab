import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from '../src/db/index.js';
import { createTestDatabase, databaseUrl, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('GraphQL limits and production hardening', () => {
  let t: TestDatabase;
  let dev: TestServer;
  let prod: TestServer;
  let alice: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    alice = await makeUser(t.db, { username: 'alice' });
    dev = await startTestServer(t.db, { MAX_BODY_BYTES: '20000' });
    prod = await startTestServer(t.db, { NODE_ENV: 'production' });
  });
  afterAll(async () => {
    await dev.stop();
    await prod.stop();
    await t.close();
  });

  it('rejects queries deeper than the limit', async () => {
    const deep = `{ chats { nodes { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { parent { id } } } } } } } } } } } } } }`;
    const res = await dev.gql(deep, {}, alice.token);
    expect(res.data ?? null).toBeNull();
    expect(res.errors?.[0]?.message).toMatch(/depth/i);
  });

  it('rejects too many aliases', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: viewer { id }`).join(' ');
    const res = await dev.gql(`{ ${aliases} }`, {}, alice.token);
    expect(res.errors?.[0]?.message).toMatch(/alias/i);
  });

  it('rejects request bodies above MAX_BODY_BYTES with 413', async () => {
    const res = await fetch(dev.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ query: `{ viewer { id } }`, variables: { pad: 'x'.repeat(30_000) } }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('serves introspection only where GraphiQL is enabled', async () => {
    const q = '{ __schema { queryType { name } } }';
    expect((await dev.gql(q)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const res = await prod.gql(q);
    expect(res.errors?.[0]?.message).toMatch(/introspection/i);
    const page = await fetch(prod.url, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<title>chatgraph</title>');
  });

  it('gives no field suggestions in production', async () => {
    const res = await prod.gql('{ viewr { id } }', {}, alice.token);
    expect(res.errors?.[0]?.message).toMatch(/Cannot query field "viewr"/);
    expect(JSON.stringify(res.errors)).not.toMatch(/Did you mean/);
    const devRes = await dev.gql('{ viewr { id } }', {}, alice.token);
    expect(JSON.stringify(devRes.errors)).toMatch(/Did you mean/);
  });

  it('graphql-jit (default) and the standard executor answer identically, errors and their locations included', async () => {
    const plain = await startTestServer(t.db, { GRAPHQL_JIT: 'false' });
    try {
      const q = '{ viewer { id username isAdmin } chats(first: 5) { totalCount nodes { id } } bad: chats(first: 0) { totalCount } }';
      const [jit, js] = await Promise.all([dev.gql(q, {}, alice.token), plain.gql(q, {}, alice.token)]);
      expect(jit).toEqual(js);
      expect(jit.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await plain.stop();
    }
  });

  it('health and readiness endpoints answer', async () => {
    const base = dev.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('/ready answers 503 when the database is unreachable', async () => {
    const broken = createDb(databaseUrl('chatgraph_no_such_database'), 1);
    const s = await startTestServer(broken);
    try {
      const res = await fetch(s.url.replace(/\/graphql$/, '/ready'));
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'unavailable' });
    } finally {
      await s.stop();
      await broken.$pool.end();
    }
  });
});
