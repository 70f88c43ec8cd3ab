import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../src/auth/admin.js';
import { onQuery } from '../src/db/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, wsQuery, type TestServer } from './helpers/server.js';

const VIEWER = '{ viewer { id username name isAdmin } }';
const CACHE_MS = 400;

describe('token auth', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let admin: TestUser;

  beforeAll(async () => {
    t = await createTestDatabase();
    // A short token cache, so revocation tests can watch it take effect within the stated delay.
    server = await startTestServer(t.db, { AUTH_CACHE_MS: String(CACHE_MS) });
    alice = await makeUser(t.db, { username: 'alice' });
    admin = await makeUser(t.db, { username: 'root', admin: true });
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  it('a good token resolves the viewer and records last use', async () => {
    const res = await server.gql(VIEWER, {}, alice.token);
    expect(res.status).toBe(200);
    expect(res.data).toEqual({ viewer: { id: expect.any(String), username: 'alice', name: 'Test alice', isAdmin: false } });
    await expect.poll(async () => (await t.db.one('SELECT last_used_at FROM api_tokens WHERE user_id = $1', [alice.user.id])).last_used_at).not.toBeNull();
  });

  it('stores only a sha256 of the secret', async () => {
    const rows = await t.db.any('SELECT secret_hash FROM api_tokens WHERE user_id = $1', [alice.user.id]);
    const secret = alice.token.split('_').at(-1)!;
    for (const row of rows) {
      expect(row.secret_hash).toHaveLength(32);
      expect(row.secret_hash.toString('utf8')).not.toContain(secret);
    }
  });

  it('admin flag needs an admin user and the admin scope', async () => {
    expect((await server.gql(VIEWER, {}, admin.token)).data).toMatchObject({ viewer: { isAdmin: true } });
    const plain = await createToken(t.db, { username: 'root', scopes: ['user'] });
    expect((await server.gql(VIEWER, {}, plain.token)).data).toMatchObject({ viewer: { isAdmin: true } });
    await expect(createToken(t.db, { username: 'alice', scopes: ['admin'] })).rejects.toThrow(/not an admin/);
  });

  it('no token on a protected field: UNAUTHENTICATED, no stack', async () => {
    const res = await server.gql(VIEWER);
    expect(res.data).toBeNull();
    expect(res.errors?.[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
    expect(JSON.stringify(res)).not.toMatch(/stack|at .*\.ts/);
  });

  it.each([
    ['malformed', () => 'not-a-token', 'Invalid token'],
    ['unknown id', () => 'cg_0123456789abcdef0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Invalid token'],
    ['wrong secret', () => `${alice.token.slice(0, -5)}AAAAA`, 'Invalid token'],
  ])('a %s token is rejected with 401 UNAUTHENTICATED', async (_name, token, message) => {
    const res = await server.gql(VIEWER, {}, token());
    expect(res.status).toBe(401);
    expect(res.errors).toEqual([{ message, extensions: { code: 'UNAUTHENTICATED' } }]);
  });

  it('an expired token is rejected', async () => {
    const { token } = await createToken(t.db, { username: 'alice', expiresInMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const res = await server.gql(VIEWER, {}, token);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toEqual({ message: 'Token expired', extensions: { code: 'UNAUTHENTICATED' } });
  });

  it('a revoked token is rejected once the token cache lets go of it (AUTH_CACHE_MS), never later', async () => {
    const { token, row } = await createToken(t.db, { username: 'alice' });
    expect((await server.gql(VIEWER, {}, token)).data).toBeTruthy();
    const revokedAt = Date.now();
    await revokeToken(t.db, row.id);
    let res = await server.gql(VIEWER, {}, token);
    while (res.status === 200 && Date.now() - revokedAt < CACHE_MS + 1000) {
      await new Promise((r) => setTimeout(r, 50));
      res = await server.gql(VIEWER, {}, token);
    }
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.message).toBe('Token revoked');
    // Within the bound (plus scheduling slack on a loaded machine).
    expect(Date.now() - revokedAt).toBeLessThan(CACHE_MS + 1000);
    await expect(revokeToken(t.db, row.id)).rejects.toThrow(/no live token/);
  });

  it('a cached token costs no statement; the cache expires with the token itself', async () => {
    const { token } = await createToken(t.db, { username: 'alice', expiresInMs: 1500 });
    expect((await server.gql(VIEWER, {}, token)).status).toBe(200);
    const statements: string[] = [];
    const stop = onQuery((q) => statements.push(q));
    try {
      expect((await server.gql(VIEWER, {}, token)).status).toBe(200);
    } finally {
      stop();
    }
    expect(statements.filter((q) => q.includes('api_tokens'))).toEqual([]);
    // Expiry is checked on every hit, so a cached token stops at its expires_at exactly.
    await new Promise((r) => setTimeout(r, 1600));
    const res = await server.gql(VIEWER, {}, token);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.message).toBe('Token expired');
  });

  it('graphql-ws: a good token in connectionParams answers queries', async () => {
    const client = server.ws({ authToken: alice.token });
    const result = await wsQuery<{ viewer: { username: string } }>(client, VIEWER);
    expect(result.data?.viewer.username).toBe('alice');
  });

  it('graphql-ws: a bad or missing token closes the socket with 4403', async () => {
    for (const params of [{ authToken: 'nope' }, {}]) {
      const client = server.ws(params);
      const error = await wsQuery(client, VIEWER).then(
        () => null,
        (err: unknown) => err,
      );
      expect((error as { code?: number }).code).toBe(4403);
    }
  });

  it('graphql-ws: a token revoked after connect fails the next operation', async () => {
    const { token, row } = await createToken(t.db, { username: 'alice' });
    // Not lazy: the same socket stays open, so the second operation is checked by onSubscribe.
    const client = server.ws({ authToken: token }, { lazy: false });
    expect((await wsQuery(client, VIEWER)).data).toBeTruthy();
    await revokeToken(t.db, row.id);
    await new Promise((r) => setTimeout(r, CACHE_MS + 50)); // the token cache's stated delay
    const error = await wsQuery(client, VIEWER).then(
      () => null,
      (err: unknown) => err,
    );
    expect(JSON.stringify(error)).toMatch(/Token revoked/);
  });
});
