import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDb, onQuery, type Db } from '../src/db/index.js';
import { EventListener } from '../src/events/listener.js';
import { LOG_START, type EventRow } from '../src/events/log.js';
import { EventHub } from '../src/events/hub.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { collect, expectNoDuplicates, quietLogger, insertChat, insertMessage, insertModelConfig, insertUser, messageIds, pause } from './helpers/events.js';

let tdb: TestDatabase;
let db: Db;
let owner: string;
let model: string;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  tdb = await createTestDatabase({ poolSize: 12 });
  db = tdb.db;
  owner = await insertUser(db);
  model = await insertModelConfig(db, { isDefault: true });
});

afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

afterAll(async () => {
  await tdb.close();
});

/** A started listener that the test's cleanup stops. */
async function startListener(on: Db, options: ConstructorParameters<typeof EventListener>[1] = {}): Promise<EventListener> {
  const listener = new EventListener(on, { reconnectMinMs: 10, reconnectMaxMs: 100, logger: quietLogger, ...options });
  cleanup.push(() => listener.stop());
  await listener.start();
  return listener;
}

/** Runs `count` transactions per writer; each locks a random chat first (the lock first rule), then writes. */
async function runWriters(on: Db, chats: string[], writers: number, count: number, rollbackEvery = 0) {
  const committed: Array<{ chat: string; id: string }> = [];
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; i < count; i++) {
      const chat = chats[Math.floor(Math.random() * chats.length)]!;
      const rollback = rollbackEvery > 0 && (w * count + i) % rollbackEvery === 0;
      const id = await on.tx(async (t) => {
        await t.one('SELECT id FROM chats WHERE id = $1 FOR UPDATE', [chat]);
        await pause(Math.random() * 3);
        const id = await insertMessage(t, chat, `w${w}#${i}`);
        if (rollback) throw new Error('rollback');
        return id;
      }).catch((err: Error) => {
        if (err.message !== 'rollback') throw err;
        return undefined;
      });
      if (id) committed.push({ chat, id });
      await pause(Math.random() * 3);
    }
  }));
  return committed;
}

/** Message ids of one chat in the order received. */
function idsOfChat(events: readonly EventRow[], chat: string): string[] {
  return messageIds(events.filter((e) => e.chat_id === chat));
}

const byNumber = (a: string, b: string) => Number(a) - Number(b);

describe('settled reads', () => {
  it('a transaction that commits late is delivered, in xid order, and a replay from a cursor taken meanwhile includes it once', async () => {
    const chatA = await insertChat(db, owner, model);
    const chatB = await insertChat(db, owner, model);
    const listener = await startListener(db);
    const received = collect(listener);

    // T1 writes first (lower seq) but commits last.
    const t1 = await db.connect();
    cleanup.push(async () => t1.done());
    await t1.none('BEGIN');
    const m1 = await insertMessage(t1, chatA, 'T1');
    const m2 = await insertMessage(db, chatB, 'T2'); // T2: commits now

    const seqs = await db.many<{ message_id: string; seq: string }>(
      "SELECT message_id::text, seq::text FROM chat_events WHERE kind = 'message' AND message_id IN ($1, $2) ORDER BY seq", [m1, m2]);
    // Only T2's row is visible here, and T1's (still open) holds xmin back, so T2 is not settled.
    expect(seqs.map((r) => r.message_id)).toEqual([m2]);
    const meanwhile = await db.eventLog.fetchSettled({ after: LOG_START, limit: 1000 });
    expect(messageIds(meanwhile.events)).not.toContain(m2);
    expect(meanwhile.unsettled).toBe(true);
    const cursorAfterT2 = await db.eventLog.head();
    // A naive "seq > last seen" reader would now hold T2's seq and later skip T1's lower one.
    const naiveCursor = seqs[0]!.seq;

    await t1.none('COMMIT');
    await expect.poll(() => messageIds(received), { timeout: 5000 }).toEqual([m1, m2]);
    expectNoDuplicates(received);

    const t1Seq = received.find((e) => e.message_id === m1)!.seq;
    expect(BigInt(t1Seq)).toBeLessThan(BigInt(naiveCursor)); // the case that loses events elsewhere
    const replay = await db.eventLog.fetchSettled({ after: cursorAfterT2, limit: 1000 });
    expect(messageIds(replay.events)).toEqual([m1, m2]);
  });

  it('an older transaction that writes no events and sends no NOTIFY still releases the wait (settle re-poll)', async () => {
    const chat = await insertChat(db, owner, model);
    // The safety poll is out of reach: only the short settle re-poll can deliver.
    const listener = await startListener(db, { safetyPollMs: 600_000 });
    const received = collect(listener);

    const blocker = await db.connect();
    cleanup.push(async () => blocker.done());
    await blocker.none('BEGIN');
    await blocker.one('SELECT pg_current_xact_id()'); // holds xmin, appends nothing
    const id = await insertMessage(db, chat);
    const page = await db.eventLog.fetchSettled({ after: listener.position!, limit: 10 });
    expect(page.events).toEqual([]);
    expect(page.unsettled).toBe(true);

    await blocker.none('COMMIT');
    await expect.poll(() => messageIds(received), { timeout: 5000 }).toEqual([id]);
  });
});

describe('listener', () => {
  it('survives pg_terminate_backend during concurrent writers: every committed event exactly once, per chat in commit order', async () => {
    const chats = await Promise.all(Array.from({ length: 4 }, () => insertChat(db, owner, model)));
    const chatSet = new Set(chats);
    const listener = await startListener(db, { safetyPollMs: 600_000 });
    expect(listener.isHealthy()).toBe(true);
    const hub = new EventHub({ source: listener, log: db.eventLog });
    cleanup.push(async () => hub.close());

    const subs = await Promise.all([0, 1, 2].map(() =>
      hub.subscribe({ filter: (e) => e.kind === 'message' && chatSet.has(e.chat_id!) })));
    const got: EventRow[][] = subs.map(() => []);
    const consumers = subs.map(async (sub, i) => {
      for await (const item of sub) got[i]!.push(item.event);
    });

    const writerDb = createDb(tdb.url, 6);
    cleanup.push(() => writerDb.$pool.end());
    let writing = true;
    const writes = runWriters(writerDb, chats, 5, 40, 9).finally(() => (writing = false));

    // Kill the LISTEN backend repeatedly while the writers run; each kill must be followed by a reconnect.
    let kills = 0;
    while (writing && kills < 4) {
      await expect.poll(() => listener.connectCount, { timeout: 5000 }).toBe(kills + 1);
      await pause(40);
      const pid = listener.backendPid;
      if (pid === undefined || !writing) continue;
      const { killed } = await db.one<{ killed: boolean }>('SELECT pg_terminate_backend($1) AS killed', [pid]);
      expect(killed).toBe(true);
      kills++;
    }
    const committed = await writes;
    expect(kills).toBeGreaterThanOrEqual(2);
    expect(committed.length).toBeGreaterThan(150);

    await expect.poll(() => got.map((g) => g.length), { timeout: 20_000 }).toEqual(got.map(() => committed.length));
    await expect.poll(() => listener.isHealthy()).toBe(true);
    expect(listener.connectCount).toBe(kills + 1);
    const committedIds = committed.map((c) => c.id).sort(byNumber);
    for (const events of got) {
      expectNoDuplicates(events);
      expect(messageIds(events).sort(byNumber)).toEqual(committedIds); // nothing rolled back, nothing lost
      for (const chat of chats) {
        // Writers of one chat hold its row lock from before the insert to commit, so message ids
        // of a chat increase in commit order.
        const ids = idsOfChat(events, chat);
        expect(ids).toEqual([...ids].sort(byNumber));
        expect(ids).toEqual(committed.filter((c) => c.chat === chat).map((c) => c.id).sort(byNumber));
      }
    }

    await Promise.all(subs.map((s) => s.return()));
    await Promise.all(consumers);
    expect(hub.subscriberCount).toBe(0);
  });

  it('two processes (two pools, two listeners) on one database both receive every event in the same order', async () => {
    const chats = await Promise.all(Array.from({ length: 3 }, () => insertChat(db, owner, model)));
    const otherProcessDb = createDb(tdb.url, 3);
    cleanup.push(() => otherProcessDb.$pool.end());
    const first = await startListener(db);
    const second = await startListener(otherProcessDb);
    expect(first.backendPid).not.toBe(second.backendPid);
    const a = collect(first);
    const b = collect(second);

    const committed = await runWriters(db, chats, 2, 20);
    const ids = committed.map((c) => c.id).sort(byNumber);
    await expect.poll(() => messageIds(a).sort(byNumber), { timeout: 10_000 }).toEqual(ids);
    await expect.poll(() => messageIds(b).sort(byNumber), { timeout: 10_000 }).toEqual(ids);
    expectNoDuplicates(a);
    expectNoDuplicates(b);
    expect(b.map((e) => e.seq)).toEqual(a.map((e) => e.seq));
  });

  it('reports health, stops cleanly and keeps one connection outside the pool', async () => {
    const pooled = db.$pool.totalCount;
    const listener = await startListener(db);
    expect(db.$pool.totalCount).toBe(pooled);
    const pid = listener.backendPid!;
    const row = await db.one<{ query: string }>('SELECT query FROM pg_stat_activity WHERE pid = $1', [pid]);
    expect(row.query).toMatch(/chat_events|LISTEN/);
    expect(listener.isHealthy()).toBe(true);
    await listener.stop();
    expect(listener.isHealthy()).toBe(false);
    await expect.poll(async () => (await db.oneOrNone('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])) === null).toBe(true);
  });

  it("keeps its background reads out of onQuery statement counts (they are nobody's request)", async () => {
    const chat = await insertChat(db, owner, model);
    const listener = await startListener(db);
    const received = collect(listener);
    const statements: string[] = [];
    const off = onQuery((q) => statements.push(q));
    try {
      const id = await insertMessage(db, chat);
      await expect.poll(() => messageIds(received)).toEqual([id]);
    } finally {
      off();
    }
    expect(statements.some((q) => q.includes('INSERT INTO chat_messages'))).toBe(true);
    expect(statements.some((q) => q.includes('pg_current_snapshot'))).toBe(false);
  });
});
