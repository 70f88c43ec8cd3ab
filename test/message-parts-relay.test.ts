import { afterEach, describe, expect, it } from 'vitest';
import type { EventRow } from '../src/events/log.js';
import { encodeBatch, encodeEnd, MAX_CHUNK_BYTES, MessagePartRelay, type PartsBatch, type PreviewItem } from '../src/events/messageParts.js';

const CHAT = '00000000-0000-4000-8000-0000000000aa';
const batch = (seq: number, text = `t${seq}`, attempt = 1): PartsBatch => ({ chatId: CHAT, attempt, seq, parts: [{ type: 'text', text }] });
const statusEvent = (previous: string, status: string): EventRow =>
  ({ seq: '1', xid: '1', version: '1', kind: 'status', chat_id: CHAT, owner_id: null, model_config_id: null, message_id: null, data: { previous, status }, occurred_at: new Date() });
const seqs = (items: PreviewItem[]) => items.map((i) => (i.kind === 'parts' ? `${i.attempt}:${i.seq}` : i.kind === 'reset' ? `reset${i.attempt}` : `end${i.messageIds}`));

describe('MessagePartRelay', () => {
  const relays: MessagePartRelay[] = [];
  const relay = (options = {}) => {
    const r = new MessagePartRelay(options);
    relays.push(r);
    return r;
  };
  const send = (r: MessagePartRelay, b: PartsBatch) => encodeBatch(b).forEach((p) => r.receive(p));
  afterEach(() => relays.splice(0).forEach((r) => r.close()));

  it('chunks a batch below the NOTIFY limit whatever its characters, and reassembles it exactly', () => {
    const text = 'ünïcødé ✓ 😀 '.repeat(2000) + '"quotes" \\ \n';
    const payloads = encodeBatch(batch(0, text));
    expect(payloads.length).toBeGreaterThan(3);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(MAX_CHUNK_BYTES + 1);
    const r = relay();
    const got: PreviewItem[] = [];
    r.subscribe(CHAT, (i) => got.push(i));
    // Chunks of two batches interleaved and out of order still reassemble.
    const other = encodeBatch(batch(1, 'short'));
    [...payloads].reverse().forEach((p, i) => {
      r.receive(p);
      if (i === 0) other.forEach((o) => r.receive(o));
    });
    expect(seqs(got)).toEqual(['1:0', '1:1']);
    expect(got[0]).toMatchObject({ parts: [{ type: 'text', text }] });
  });

  it('delivers by seq: duplicates dropped, an early batch held until the gap fills', () => {
    const r = relay();
    const got: PreviewItem[] = [];
    r.subscribe(CHAT, (i) => got.push(i));
    for (const s of [0, 2, 1, 1, 0, 3]) send(r, batch(s));
    expect(seqs(got)).toEqual(['1:0', '1:1', '1:2', '1:3']);
  });

  it('skips a gap that stays open longer than holdMs', async () => {
    const r = relay({ holdMs: 50 });
    const got: PreviewItem[] = [];
    r.subscribe(CHAT, (i) => got.push(i));
    send(r, batch(0));
    send(r, batch(2));
    expect(seqs(got)).toEqual(['1:0']);
    await expect.poll(() => seqs(got), { timeout: 2000 }).toEqual(['1:0', '1:2']);
  });

  it('a late joiner gets the attempt so far, then the live batches: no gap, no duplicate', () => {
    const r = relay();
    for (const s of [0, 1, 2]) send(r, batch(s));
    const live: PreviewItem[] = [];
    const { snapshot } = r.subscribe(CHAT, (i) => live.push(i));
    for (const s of [2, 3, 4]) send(r, batch(s));
    expect([...seqs(snapshot), ...seqs(live)]).toEqual(['1:0', '1:1', '1:2', '1:3', '1:4']);
  });

  it('a new attempt resets the preview; a stale attempt is ignored; an end marker supersedes and clears it', () => {
    const r = relay();
    const got: PreviewItem[] = [];
    r.subscribe(CHAT, (i) => got.push(i));
    send(r, batch(0, 'a', 1));
    send(r, batch(0, 'b', 2));
    send(r, batch(1, 'late', 1));
    send(r, batch(1, 'c', 2));
    encodeEnd(CHAT, ['42']).forEach((p) => r.receive(p));
    expect(seqs(got)).toEqual(['1:0', 'reset1', '2:0', '2:1', 'end42']);
    expect(r.subscribe(CHAT, () => undefined).snapshot).toEqual([]);
    // The log's copy of the same message does not end the next preview.
    send(r, batch(0, 'next', 3));
    r.onLog([{ ...statusEvent('x', 'y'), kind: 'message', message_id: '42', data: { role: 'assistant' } }]);
    expect(r.hasPreview(CHAT)).toBe(true);
  });

  it('a run that leaves RUNNING with an open preview resets it', () => {
    const r = relay();
    const got: PreviewItem[] = [];
    r.subscribe(CHAT, (i) => got.push(i));
    send(r, batch(0));
    r.onLog([statusEvent('pending', 'running')]);
    expect(seqs(got)).toEqual(['1:0']);
    r.onLog([statusEvent('running', 'error')]);
    expect(seqs(got)).toEqual(['1:0', 'reset1']);
    expect(r.hasPreview(CHAT)).toBe(false);
  });

  it("a run's end read from the log late does not reset the next run's preview (NOTIFY arrival order decides)", () => {
    const r = relay();
    const got: PreviewItem[] = [];
    r.subscribe(CHAT, (i) => got.push(i));
    // The finish's NOTIFY arrived as notification 10; the next run's first batch as 11; the log read comes after both.
    encodeBatch(batch(0, 'new run')).forEach((p) => r.receive(p, 11));
    r.onLog([statusEvent('running', 'waiting')], (xid) => (xid === '1' ? 10 : undefined));
    expect(seqs(got)).toEqual(['1:0']);
    expect(r.hasPreview(CHAT)).toBe(true);
    // A finish whose NOTIFY came after the batch does reset it.
    r.onLog([{ ...statusEvent('running', 'error'), xid: '2' }], (xid) => (xid === '2' ? 12 : undefined));
    expect(seqs(got)).toEqual(['1:0', 'reset1']);
  });

  it('admit: a burst past the bucket is refused with a retry delay, the bucket refills; a preview past its byte bound is refused', () => {
    let now = 0;
    const r = relay({ batchesPerSecond: 10, burst: 3, maxPreviewBytes: 100, now: () => now });
    expect([1, 2, 3].map(() => r.admit(CHAT, 1, 10).ok)).toEqual([true, true, true]);
    const refused = r.admit(CHAT, 1, 10);
    expect(refused).toEqual({ ok: false, reason: 'rate', retryAfterMs: 100 });
    now += 100;
    expect(r.admit(CHAT, 1, 10).ok).toBe(true);
    // Another chat is not affected by this one's burst.
    expect(r.admit('00000000-0000-4000-8000-0000000000bb', 1, 10).ok).toBe(true);
    now += 10_000;
    send(r, { chatId: CHAT, attempt: 1, seq: 0, parts: [{ type: 'text', text: 'x'.repeat(80) }] });
    expect(r.admit(CHAT, 1, 30)).toEqual({ ok: false, reason: 'size', limit: 100 });
    expect(r.admit(CHAT, 2, 30).ok).toBe(true); // a new attempt starts an empty preview
  });

  it('forgets a chat once it has no preview, no subscriber and a full bucket', () => {
    let now = 0;
    const r = relay({ now: () => now });
    const sub = r.subscribe(CHAT, () => undefined);
    send(r, batch(0));
    r.onLog([statusEvent('running', 'waiting')]);
    sub.unsubscribe();
    now += 60_000;
    r.admit('00000000-0000-4000-8000-0000000000cc', 1, 1);
    expect(r.trackedChats).toBeLessThanOrEqual(1);
  });
});
