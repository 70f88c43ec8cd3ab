import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDb, type Db } from '../src/db/index.js';
import { ensureDatabase } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { encodeEventCursor } from '../src/events/cursor.js';
import { startCluster, type Cluster } from './helpers/cluster.js';
import { insertChat, insertModels } from './helpers/data.js';
import { quietLogger } from './helpers/events.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcpProxy.js';

// Database faults with writers committing and subscribers on two gateway processes: every
// subscription must stay open and receive every event exactly once, in log order, once the
// database is back. This file runs its own Postgres cluster (a restart would break the shared
// test server) and reaches it through a TCP proxy it can cut. Writers connect directly, so
// they keep committing while the gateways cannot reach the database.

const WATCH = 'subscription { chatWatch { cursor kind version chat { id version } } }';
const WATCH_OTHER = 'subscription { chatWatch { cursor kind occurredAt } }';
const WATCH_AFTER = 'subscription ($after: String) { chatWatch(after: $after) { cursor kind version chat { id title } } }';

interface Watch { chatWatch: { cursor: string; kind: string } }

/** One client subscription: what arrived, and how it ended (if it did). */
interface Sub {
  name: string;
  results: Array<FormattedExecutionResult<Watch, unknown>>;
  cursors: string[];
  completed: boolean;
  error: unknown;
  closeCode: number | undefined;
}

let cluster: Cluster;
let proxy: TcpProxy;
let writerDb: Db;
let dbA: Db;
let gatewayA: TestServer;
let gatewayB: GatewayProcess;
let alice: TestUser;
let chats: string[];
let start: { xid: string; seq: string };
const subs: Sub[] = [];
const clients: Client[] = [];
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The gateways' URL of the database: through the proxy, named so its backends can be found. */
const viaProxy = (app: string) => `postgres://postgres@127.0.0.1:${proxy.port}/chatgraph?application_name=${app}`;

function subscribe(wsUrl: string, name: string, query: string, variables?: Record<string, unknown>): Sub {
  const sub: Sub = { name, results: [], cursors: [], completed: false, error: undefined, closeCode: undefined };
  const client = createClient({
    url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authToken: alice.token }, retryAttempts: 0, lazy: false, onNonLazyError: () => undefined,
    on: { closed: (event) => (sub.closeCode ??= (event as { code: number }).code) },
  });
  clients.push(client);
  client.subscribe<Watch>({ query, variables }, {
    next: (result) => {
      sub.results.push(result);
      if (result.data) sub.cursors.push(result.data.chatWatch.cursor);
    },
    error: (err) => (sub.error = err),
    complete: () => (sub.completed = true),
  });
  subs.push(sub);
  return sub;
}

/** The cursors every subscriber must have received: the test chats' events in the log, in log order. */
async function expectedCursors(): Promise<string[]> {
  const rows = await writerDb.any<{ xid: string; seq: string }>(
    // Order by the columns, not the text casts of the same name (text order would put 1000 before 738).
    'SELECT e.xid::text AS xid, e.seq::text AS seq FROM chat_events e WHERE e.chat_id = ANY($1::uuid[]) AND (e.xid, e.seq) > ($2::xid8, $3::bigint) ORDER BY e.xid, e.seq',
    [chats, start.xid, start.seq],
  );
  return rows.map(encodeEventCursor);
}

/** Writers commit title changes (one chat each) while `fault` runs; returns how many were acknowledged. */
async function underLoad(fault: () => Promise<void>): Promise<{ acked: number; failed: number }> {
  let running = true;
  const counts = { acked: 0, failed: 0 };
  const writers = chats.map(async (chat, w) => {
    for (let i = 0; running; i++) {
      try {
        await writerDb.none('UPDATE chats SET title = $2 WHERE id = $1', [chat, `w${w}-${i}-${Date.now()}`]);
        counts.acked++;
      } catch {
        counts.failed++; // the restart cuts the writers too; they carry on once it is back
        await pause(100);
      }
      await pause(15);
    }
  });
  await pause(800);
  await fault();
  await pause(800);
  running = false;
  await Promise.all(writers);
  return counts;
}

/** Every subscription received exactly the log's events, in order, and is still open. */
async function expectEverySubscriberComplete(): Promise<number> {
  const expected = await expectedCursors();
  for (const sub of subs) {
    await expect.poll(() => sub.cursors.length, { timeout: 30_000, message: `${sub.name} received ${sub.cursors.length} of ${expected.length}` }).toBeGreaterThanOrEqual(expected.length);
    expect(sub.cursors, sub.name).toEqual(expected); // same events, same order, none twice
    expect(sub.results.filter((r) => r.errors), sub.name).toEqual([]);
    expect({ name: sub.name, completed: sub.completed, error: sub.error, closeCode: sub.closeCode }).toEqual({ name: sub.name, completed: false, error: undefined, closeCode: undefined });
  }
  return expected.length;
}

beforeAll(async () => {
  cluster = await startCluster();
  await ensureDatabase(cluster.url('postgres'), 'chatgraph');
  writerDb = createDb(cluster.url('chatgraph', 'writer'), 6);
  await migrate(writerDb);
  await insertModels(writerDb);
  alice = await makeUser(writerDb);
  chats = await Promise.all([0, 1, 2].map((i) => insertChat(writerDb, alice.user.id, { title: `fault ${i}` })));
  start = await writerDb.one('SELECT xid::text, seq::text FROM chat_events ORDER BY xid DESC, seq DESC LIMIT 1');
  proxy = await startTcpProxy(cluster.port);
  dbA = createDb(viaProxy('gateway-a'), 6);
  [gatewayA, gatewayB] = await Promise.all([
    // No token cache on A: its outage answers are those a token it has not just seen gets (a token
    // authenticated within AUTH_CACHE_MS is still accepted while the database is away).
    startTestServer(dbA, { AUTH_CACHE_MS: '0' }, { eventStream: { logger: quietLogger } }),
    startGatewayProcess(viaProxy('gateway-b')),
  ]);
  // Gateway A: two identical subscriptions (one shared execution) and a different one, live
  // from now. Gateway B (another process): from the start cursor, so registration cannot race.
  subscribe(gatewayA.wsUrl, 'A shared 1', WATCH);
  subscribe(gatewayA.wsUrl, 'A shared 2', WATCH);
  subscribe(gatewayA.wsUrl, 'A other', WATCH_OTHER);
  for (let i = 0; gatewayA.app.liveSubscriptions < 3; i++) {
    if (i > 500) throw new Error('gateway A did not register the subscriptions');
    await pause(20);
  }
  const after = encodeEventCursor(start);
  const wsB = gatewayB.url.replace(/^http/, 'ws');
  for (const name of ['B 1', 'B 2']) subscribe(wsB, name, WATCH_AFTER, { after });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await gatewayB?.stop();
  await gatewayA?.stop();
  await dbA?.$pool.end();
  await writerDb?.$pool.end();
  await proxy?.close();
  await cluster?.stop();
});

describe('database faults under load, two gateway processes', () => {
  it('every backend of one gateway terminated at once (pool and LISTEN): nothing lost, nothing doubled, nothing closed', async () => {
    const listener = gatewayA.app.eventStream.listener;
    const connects = listener.connectCount;
    let killed = 0;
    const { acked } = await underLoad(async () => {
      await gatewayA.gql('{ viewer { id } }', {}, alice.token); // make sure pooled connections exist too
      const row = await writerDb.one<{ n: number }>(
        "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'gateway-a'",
      );
      killed = row.n;
    });
    expect(killed).toBeGreaterThanOrEqual(2); // the LISTEN connection and at least one pooled one
    expect(acked).toBeGreaterThan(10); // the writers committed throughout
    const delivered = await expectEverySubscriberComplete();
    expect(delivered).toBeGreaterThanOrEqual(acked);
    expect(listener.connectCount).toBeGreaterThan(connects);
  }, 60_000);

  it('pg_ctl restart -m fast under load: every subscription stays open and catches up exactly', async () => {
    const before = (await expectedCursors()).length;
    const { acked, failed } = await underLoad(() => cluster.restart());
    expect(acked).toBeGreaterThan(10); // the writers committed throughout
    expect(failed).toBeGreaterThan(0); // the writers saw the restart too
    const delivered = await expectEverySubscriberComplete();
    expect(delivered - before).toBeGreaterThanOrEqual(acked);
    await expect.poll(async () => (await fetch(gatewayA.url.replace(/\/graphql$/, '/ready'))).status, { timeout: 15_000 }).toBe(200);
  }, 60_000);

  it('database unreachable for 10 s: typed 503s meanwhile, a short-bound gateway interrupts resumably, the others deliver everything after', async () => {
    // Gateway C allows only 2 s of outage, so its subscription must end with STREAM_INTERRUPTED.
    const dbC = createDb(viaProxy('gateway-c'), 2);
    const gatewayC = await startTestServer(dbC, { EVENT_STREAM_OUTAGE_SECONDS: '2' }, { eventStream: { logger: quietLogger } });
    try {
      const short = subscribe(gatewayC.wsUrl, 'C (2 s bound)', WATCH);
      subs.pop(); // C's subscription is judged on its own below
      await expect.poll(() => gatewayC.app.liveSubscriptions, { timeout: 10_000 }).toBe(1);
      const ready = () => fetch(gatewayA.url.replace(/\/graphql$/, '/ready')).then((r) => r.status);
      let during: { ready: number; query: { status: number; code: unknown }; closeCode: number | undefined } | undefined;

      const { acked } = await underLoad(async () => {
        await expect.poll(() => short.cursors.length, { timeout: 10_000 }).toBeGreaterThan(0);
        const cutAt = Date.now();
        await proxy.cut();
        const res = await gatewayA.gql('{ viewer { id } }', {}, alice.token);
        const late = subscribe(gatewayA.wsUrl, 'connect during outage', WATCH);
        subs.pop();
        await expect.poll(() => late.closeCode, { timeout: 10_000 }).toBeDefined();
        await expect.poll(() => short.completed, { timeout: 10_000 }).toBe(true);
        during = { ready: await ready(), query: { status: res.status, code: res.errors?.[0]?.extensions?.code }, closeCode: late.closeCode };
        await pause(Math.max(0, 10_000 - (Date.now() - cutAt)));
        await proxy.restore();
      });

      expect(during).toEqual({ ready: 503, query: { status: 503, code: 'DATABASE_UNAVAILABLE' }, closeCode: 1013 });
      // C's last result is the typed, resumable error carrying the last cursor it delivered.
      const last = short.results[short.results.length - 1]!;
      expect(last.errors?.[0]?.extensions).toEqual({ code: 'STREAM_INTERRUPTED', cursor: short.cursors[short.cursors.length - 1] });
      expect(last.errors?.[0]?.message).not.toMatch(/Unexpected error/);
      expect(acked).toBeGreaterThan(100); // the writers kept committing during the outage
      await expectEverySubscriberComplete();
      await expect.poll(ready, { timeout: 15_000 }).toBe(200);
    } finally {
      await gatewayC.stop();
      await dbC.$pool.end();
    }
  }, 90_000);
});
