import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneEvents, startEventPruner } from '../src/events/retention.js';
import type { Db } from '../src/db/index.js';
import { EventListener } from '../src/events/listener.js';
import { comparePositions, positionOf, type EventRow } from '../src/events/log.js';
import { decodeEventCursor, encodeEventCursor, EventCursorExpiredError, InvalidEventCursorError } from '../src/events/cursor.js';
import { EventHub, type EventSubscription, type SubscribeOptions } from '../src/events/hub.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModelConfig, insertUser, pause, quietLogger, take } from './helpers/events.js';

let tdb: TestDatabase;
let db: Db;
let listener: EventListener;
let hub: EventHub;
let ownerA: string;
let ownerB: string;
let model: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  db = tdb.db;
  ownerA = await insertUser(db);
  ownerB = await insertUser(db);
  model = await insertModelConfig(db, { isDefault: true });
  listener = new EventListener(db, { logger: quietLogger });
  await listener.start();
  hub = new EventHub({ source: listener, log: db.eventLog });
});

afterAll(async () => {
  hub.close();
  await listener.stop();
  await tdb.close();
});

/** Messages of one chat, replay narrowed in SQL too. */
const chatMessages = (chat: string): SubscribeOptions => ({
  filter: (e) => e.chat_id === chat && e.kind === 'message',
  query: { chatId: chat },
});

async function writeMessages(chat: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await insertMessage(db, chat, `m${i}`));
  return ids;
}

const ids = (items: Array<{ event: EventRow }>) => items.map((i) => i.event.message_id);

describe('EventHub', () => {
  it('resubscribing with after gets exactly what was missed, then live, with no duplicate', async () => {
    const chat = await insertChat(db, ownerA, model);
    const first = await hub.subscribe(chatMessages(chat));
    const seen = await writeMessages(chat, 3);
    const delivered = await take(first, 3);
    expect(ids(delivered)).toEqual(seen);
    const cursor = delivered[2]!.cursor;
    expect(first.cursor).toBe(cursor);
    await first.return();

    const missed = await writeMessages(chat, 4);
    const resumed = await hub.subscribe({ ...chatMessages(chat), after: cursor });
    const later = await writeMessages(chat, 2);
    expect(ids(await take(resumed, 6))).toEqual([...missed, ...later]);
    // A duplicate would be queued before this one.
    const [marker] = await writeMessages(chat, 1);
    expect(ids(await take(resumed, 1))).toEqual([marker]);
    await resumed.return();
  });

  it('a replay racing live writes (several replay pages) hands over with no gap and no duplicate', async () => {
    const chat = await insertChat(db, ownerA, model);
    const pagedHub = new EventHub({ source: listener, log: db.eventLog, replayPageSize: 5 });
    try {
      const reference = await pagedHub.subscribe(chatMessages(chat));
      const start = reference.cursor;
      const written: string[] = [];
      const writer = (async () => {
        for (let i = 0; i < 60; i++) {
          written.push(await insertMessage(db, chat, `r${i}`));
          await pause(Math.random() * 2);
        }
      })();
      await expect.poll(() => written.length).toBeGreaterThanOrEqual(20);
      const late = await pagedHub.subscribe({ ...chatMessages(chat), after: start });
      await writer;
      const [all, replayed] = await Promise.all([take(reference, 60), take(late, 60)]);
      expect(ids(all)).toEqual(written);
      expect(ids(replayed)).toEqual(written);
      await Promise.all([reference.return(), late.return()]);
    } finally {
      pagedHub.close();
    }
  });

  it('100 subscriptions that return() leave no live subscription, and a pending next() ends', async () => {
    expect(hub.subscriberCount).toBe(0);
    const chat = await insertChat(db, ownerA, model);
    const [someCursor] = [(await hub.subscribe(chatMessages(chat)))];
    const subs = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      hub.subscribe({ ...chatMessages(chat), after: i % 2 === 0 ? someCursor!.cursor : undefined })));
    expect(hub.subscriberCount).toBe(101);
    const pending = subs[0]!.next();
    await Promise.all(subs.map((s) => s.return()));
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(hub.subscriberCount).toBe(1);

    // Breaking out of for-await calls return() too.
    const [id] = await writeMessages(chat, 1);
    for await (const item of someCursor!) {
      expect(item.event.message_id).toBe(id);
      break;
    }
    expect(hub.subscriberCount).toBe(0);
  });

  it("an owner's subscription never sees another owner's events (live or replayed); an unfiltered one sees both", async () => {
    const chatA = await insertChat(db, ownerA, model);
    const chatB = await insertChat(db, ownerB, model);
    // Messages only: the chat_created events above may still be on their way to the listener.
    const visibleTo = (owner: string): SubscribeOptions => ({ filter: (e) => e.owner_id === owner && e.kind === 'message', query: { ownerId: owner } });
    const subA = await hub.subscribe(visibleTo(ownerA));
    const admin = await hub.subscribe({ filter: (e) => (e.chat_id === chatA || e.chat_id === chatB) && e.kind === 'message' });
    const start = subA.cursor;

    const fromB = await writeMessages(chatB, 5);
    const [fromA] = await writeMessages(chatA, 1);
    // B's events were committed first; A's subscription gets only A's.
    const [first] = await take(subA, 1);
    expect(first!.event).toMatchObject({ owner_id: ownerA, message_id: fromA });
    expect(ids(await take(admin, 6))).toEqual([...fromB, fromA]);

    const replayA = await hub.subscribe({ ...visibleTo(ownerA), after: start });
    expect((await take(replayA, 1))[0]!.event.message_id).toBe(fromA);
    const [marker] = await writeMessages(chatA, 1);
    expect(ids(await take(replayA, 1))).toEqual([marker]);
    await Promise.all([subA.return(), admin.return(), replayA.return()]);
  });

  it('loads each live event once per process, however many subscriptions, and only events someone wants', async () => {
    const chat = await insertChat(db, ownerA, model);
    const ignored = await insertChat(db, ownerA, model);
    const loads: string[] = [];
    const loadingHub = new EventHub<{ loaded: string }>({
      source: listener,
      log: db.eventLog,
      load: async (events) => {
        loads.push(...events.map((e) => e.seq));
        return events.map((e) => ({ loaded: `#${e.seq}` }));
      },
    });
    try {
      const subs = await Promise.all(Array.from({ length: 10 }, () => loadingHub.subscribe(chatMessages(chat))));
      await writeMessages(ignored, 1);
      await writeMessages(chat, 1);
      const received = await Promise.all(subs.map((s) => take(s, 1)));
      const seq = received[0]![0]!.event.seq;
      for (const [item] of received) expect(item!.data).toEqual({ loaded: `#${seq}` });
      expect(loads).toEqual([seq]);
      await Promise.all(subs.map((s) => s.return()));
    } finally {
      loadingHub.close();
    }
  });

  it('a consumer that falls more than maxPending behind catches up from the log: bounded memory, nothing lost or repeated', async () => {
    const chat = await insertChat(db, ownerA, model);
    const smallHub = new EventHub({ source: listener, log: db.eventLog, maxPending: 5, replayPageSize: 3 });
    try {
      const slow = await smallHub.subscribe(chatMessages(chat)) as EventSubscription<EventRow> & { catchUps: number };
      const first = await writeMessages(chat, 8); // more than 5 arrive before it pulls anything
      await expect.poll(() => slow.catchUps).toBeGreaterThan(0);
      expect(smallHub.subscriberCount).toBe(1); // still subscribed
      const firstTwo = ids(await take(slow, 2));
      const more = await writeMessages(chat, 12); // falls behind again, in the middle of catching up
      const rest = ids(await take(slow, 18));
      expect([...firstTwo, ...rest]).toEqual([...first, ...more]);
      await slow.return();
    } finally {
      smallHub.close();
    }
  });
});

describe('event cursors', () => {
  it('round-trip and reject anything the server did not issue', async () => {
    const position = { xid: '18446744073709551615', seq: '9223372036854775807' };
    expect(decodeEventCursor(encodeEventCursor(position))).toEqual(position);
    const bad = [
      '', 'not a cursor', Buffer.from('v2:1:2').toString('base64url'), Buffer.from('v1:1').toString('base64url'),
      Buffer.from('v1:01:2').toString('base64url'), Buffer.from('v1:-1:2').toString('base64url'),
      Buffer.from('v1:18446744073709551616:1').toString('base64url'), 'A'.repeat(100),
    ];
    for (const cursor of bad) expect(() => decodeEventCursor(cursor), cursor).toThrow(InvalidEventCursorError);
    await expect(hub.subscribe({ filter: () => true, after: 'garbage!' })).rejects.toBeInstanceOf(InvalidEventCursorError);
    expect(hub.subscriberCount).toBe(0);
  });
});

describe('retention', () => {
  it('prunes old events and answers a cursor from before the pruned range with "expired, refetch"', async () => {
    const chat = await insertChat(db, ownerA, model);
    const sub = await hub.subscribe(chatMessages(chat));
    const before = sub.cursor;
    await writeMessages(chat, 3);
    const [e1, e2, e3] = (await take(sub, 3)).map((i) => i.event);
    await sub.return();

    // Age everything up to e2 past the retention window.
    await db.none("UPDATE chat_events SET occurred_at = now() - interval '8 days' WHERE (xid, seq) <= ($1::xid8, $2::bigint)", [e2!.xid, e2!.seq]);
    const total = await db.one<{ n: number }>('SELECT count(*)::int AS n FROM chat_events WHERE (xid, seq) <= ($1::xid8, $2::bigint)', [e2!.xid, e2!.seq]);
    expect(await pruneEvents(db, 7, { batchSize: 7 })).toBe(total.n);
    expect(await db.eventLog.prunedThrough()).toEqual(positionOf(e2!));
    expect(comparePositions((await db.eventLog.oldestRetained())!, positionOf(e2!))).toBeGreaterThan(0);
    expect(await db.oneOrNone('SELECT 1 FROM chat_events WHERE seq IN ($1, $2)', [e1!.seq, e2!.seq])).toBeNull();

    const expired = await hub.subscribe({ ...chatMessages(chat), after: before }).catch((err: unknown) => err);
    expect(expired).toBeInstanceOf(EventCursorExpiredError);
    expect((expired as Error).message).toMatch(/expired.*refetch/i);
    expect(hub.subscriberCount).toBe(0);

    // A cursor at the watermark missed nothing: it replays what is left.
    const resumed = await hub.subscribe({ ...chatMessages(chat), after: encodeEventCursor(positionOf(e2!)) });
    expect((await take(resumed, 1))[0]!.event.seq).toBe(e3!.seq);
    await resumed.return();
  });

  it('the periodic pruner prunes on its timer, runs on demand, and stops', async () => {
    const chat = await insertChat(db, ownerA, model);
    const [id] = await writeMessages(chat, 1);
    await db.none("UPDATE chat_events SET occurred_at = now() - interval '2 days' WHERE message_id = $1", [id]);
    // A transaction open elsewhere on the server may keep the event unsettled (and so unprunable)
    // for a moment; the timer keeps trying.
    const pruner = startEventPruner(db, { retentionDays: 1, intervalMs: 50, logger: quietLogger });
    try {
      await expect.poll(async () => db.oneOrNone('SELECT 1 FROM chat_events WHERE message_id = $1', [id]), { timeout: 10_000 }).toBeNull();
      expect(await pruner.runNow()).toBe(0);
    } finally {
      await pruner.stop();
    }
  });
});
