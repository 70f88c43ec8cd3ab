import { randomBytes } from 'node:crypto';
import type { EventRow } from './log.js';
import { recordMessagePartsRelayed } from '../metrics.js';

/**
 * The relay of streamed message parts (`MESSAGE_PART`): live deltas of the assistant message a
 * worker is generating, never written to a table and never replayable.
 *
 * - Publish: the gateway that receives a batch sends it with NOTIFY on PARTS_CHANNEL, split into
 *   chunks below Postgres' 8000-byte payload limit, in the same statement that checks the
 *   worker still owns the run (resolvers/messageParts.ts). All chunks of one batch go out in one
 *   transaction, so they arrive together and in order on every LISTEN connection.
 * - Receive: every process's one LISTEN connection hands each payload to `receive`; chunks are
 *   reassembled (incomplete ones are dropped after a while) and the batch goes into the chat's
 *   preview buffer, then to every subscriber of the chat on this process.
 * - Order: batches are delivered by `seq` within an `attempt`: a duplicate (seq already seen) is
 *   dropped, one that arrives early is held until the gap fills (or `holdMs` passes, then the
 *   relay skips ahead: parts lost with a dropped LISTEN connection do not stall the preview).
 * - Late joiners: `subscribe` returns the current preview's batches and registers for the next
 *   ones in the same synchronous step, so a subscriber sees every seq of the attempt once, with
 *   no gap and no duplicate. The buffer is bounded per chat (`maxPreviewBytes`, `maxBatches`);
 *   the publisher refuses a batch past the bound (`admit`).
 * - End of a preview: an append of an assistant message NOTIFYs an `end` marker on the same
 *   channel in its transaction, so it arrives after the message's parts and before any later
 *   ones; the buffer is cleared and subscribers are told which message supersedes the parts.
 *   A new attempt, or a status change that leaves RUNNING while a preview is open (a run that
 *   ended without a message: error, interrupt, reclaim), is a `reset`: clients drop partial output.
 *
 * Rate limits are per chat and per process (token bucket), so one chat's burst is refused to its
 * worker and never slows other chats.
 */

/** The NOTIFY channel of message parts. */
export const PARTS_CHANNEL = 'chatgraph_parts';
/** Payload bytes per NOTIFY chunk, header included (Postgres refuses 8000 and above). */
export const MAX_CHUNK_BYTES = 7900;

/** One delta of the message being generated. */
export type PartDelta =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string | null; argsDelta: string };

/** One batch a worker published. */
export interface PartsBatch {
  chatId: string;
  attempt: number;
  seq: number;
  parts: PartDelta[];
}

/** What a subscriber of a chat receives. */
export type PreviewItem =
  | { kind: 'parts'; attempt: number; seq: number; parts: PartDelta[] }
  | { kind: 'reset'; attempt: number }
  /** The messages that supersede the open preview (their MESSAGE events follow through the log). */
  | { kind: 'end'; attempt: number; messageIds: string[] };

type Wire = { t: 'p'; c: string; a: number; s: number; p: PartDelta[] } | { t: 'e'; c: string; m: string[] };

/** JSON with every non-ASCII character escaped, so a byte is a character and chunks can be cut anywhere. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const processTag = randomBytes(4).toString('hex');
let chunkCounter = 0;

/** Splits a wire message into NOTIFY payloads `<id>:<index>:<count>:<slice>`, each below MAX_CHUNK_BYTES. */
function chunks(message: Wire): string[] {
  const json = asciiJson(message);
  const id = `${processTag}${(chunkCounter++ % 0xffffff).toString(36)}`;
  const room = MAX_CHUNK_BYTES - id.length - 16;
  const count = Math.max(1, Math.ceil(json.length / room));
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(`${id}:${i}:${count}:${json.slice(i * room, (i + 1) * room)}`);
  return out;
}

/** NOTIFY payloads of one parts batch. */
export function encodeBatch(batch: PartsBatch): string[] {
  return chunks({ t: 'p', c: batch.chatId, a: batch.attempt, s: batch.seq, p: batch.parts });
}

/** NOTIFY payload of an `end` marker: `messageIds` of the chat supersede its open preview. */
export function encodeEnd(chatId: string, messageIds: string[]): string[] {
  return chunks({ t: 'e', c: chatId, m: messageIds });
}

/** Tuning of a relay; the defaults are documented in docs/worker-protocol.md. */
export interface MessagePartRelayOptions {
  /** Sustained batches per second per chat (the bucket refills at this rate). */
  batchesPerSecond?: number;
  /** Bucket size: a burst of this many batches is accepted at once. */
  burst?: number;
  /** Bytes of parts one chat's open preview may hold (the late-joiner buffer). */
  maxPreviewBytes?: number;
  /** Batches one preview may hold. */
  maxBatches?: number;
  /** How long an early batch waits for the seq before it. */
  holdMs?: number;
  /** A preview without activity this long is dropped from memory (a worker that died mid-stream). */
  idleMs?: number;
  now?: () => number;
  /** Sends batches' NOTIFY payloads where their worker owns the chat; answers per batch (the database side of `publish`). */
  send?: PartsSender;
  /** Statements of `send` in flight at once; later publishes wait and go out together in the next one. */
  maxInFlight?: number;
}

/** One batch to send: its chat, the worker claiming it, its NOTIFY payloads. */
export interface OutgoingBatch {
  chatId: string;
  workerId: string;
  payloads: string[];
}
export type PartsSender = (batches: OutgoingBatch[]) => Promise<boolean[]>;

type Listener = (item: PreviewItem) => void;

interface Preview {
  attempt: number;
  /** Arrival order (on the LISTEN connection) of its first batch. */
  startOrder: number;
  /** Next seq to deliver (a process that joined mid-stream skips ahead after holdMs). */
  next: number;
  batches: Array<{ seq: number; parts: PartDelta[]; bytes: number }>;
  bytes: number;
  held: Map<number, { parts: PartDelta[]; bytes: number; at: number }>;
  touched: number;
}

interface ChatState {
  preview: Preview | undefined;
  listeners: Set<Listener>;
  tokens: number;
  refilled: number;
  /** Highest message id that ended a preview (the log's copy of an end marker must not end the next one). */
  lastEnded: bigint;
  endedAt: number;
  /** Attempt of the preview the last end marker closed: its stragglers must not open a new one. */
  endedAttempt: number;
}

/** Why `admit` refused a batch. */
export type AdmitResult = { ok: true } | { ok: false; reason: 'rate'; retryAfterMs: number } | { ok: false; reason: 'size'; limit: number };

/** Per-process relay: reassembly, preview buffers, subscribers, rate limits. */
export class MessagePartRelay {
  private readonly chats = new Map<string, ChatState>();
  private readonly partial = new Map<string, { parts: string[]; got: number; at: number }>();
  private readonly rate: number;
  private readonly burst: number;
  readonly maxPreviewBytes: number;
  readonly maxBatches: number;
  private readonly holdMs: number;
  private readonly idleMs: number;
  private readonly now: () => number;
  private sweeper: NodeJS.Timeout;
  private arrivals = 0;
  private readonly send: PartsSender | undefined;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private outbox: Array<{ batch: OutgoingBatch; done: (owned: boolean) => void; fail: (err: unknown) => void }> = [];

  constructor(options: MessagePartRelayOptions = {}) {
    this.rate = options.batchesPerSecond ?? 100;
    this.burst = options.burst ?? this.rate * 2;
    this.maxPreviewBytes = options.maxPreviewBytes ?? 1024 * 1024;
    this.maxBatches = options.maxBatches ?? 5000;
    this.holdMs = options.holdMs ?? 1000;
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.now = options.now ?? Date.now;
    this.send = options.send;
    this.maxInFlight = options.maxInFlight ?? 2;
    this.sweeper = setInterval(() => this.sweep(), Math.min(this.holdMs, 1000));
    this.sweeper.unref();
  }

  /** Stops the housekeeping timer. */
  close(): void {
    clearInterval(this.sweeper);
  }

  /** Chats with an open preview or subscribers (tests check that memory is given back). */
  get trackedChats(): number {
    return this.chats.size;
  }

  /**
   * Whether a batch of `bytes` for `chatId` may be published now: takes a token from the chat's
   * bucket, and checks that the open preview of the same attempt has room for it.
   */
  admit(chatId: string, attempt: number, bytes: number): AdmitResult {
    const state = this.state(chatId);
    const now = this.now();
    state.tokens = Math.min(this.burst, state.tokens + ((now - state.refilled) / 1000) * this.rate);
    state.refilled = now;
    const preview = state.preview;
    const held = preview && preview.attempt === attempt ? preview.bytes + [...preview.held.values()].reduce((n, h) => n + h.bytes, 0) : 0;
    const count = preview && preview.attempt === attempt ? preview.batches.length + preview.held.size : 0;
    if (held + bytes > this.maxPreviewBytes || count + 1 > this.maxBatches) {
      this.forget(chatId, state);
      return { ok: false, reason: 'size', limit: this.maxPreviewBytes };
    }
    if (state.tokens < 1) {
      this.forget(chatId, state);
      return { ok: false, reason: 'rate', retryAfterMs: Math.ceil(((1 - state.tokens) / this.rate) * 1000) };
    }
    state.tokens -= 1;
    return { ok: true };
  }

  /**
   * Sends one batch (NOTIFY, through `send`) if its worker owns the chat; resolves whether it
   * did. Publishes that arrive while `maxInFlight` statements are running are coalesced into
   * the next statement: under load, many batches share one round trip and one commit.
   */
  publish(batch: OutgoingBatch): Promise<boolean> {
    if (!this.send) return Promise.reject(new Error('this relay cannot publish'));
    return new Promise((done, fail) => {
      this.outbox.push({ batch, done, fail });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.outbox.length > 0) {
      const items = this.outbox.splice(0, 500);
      this.inFlight++;
      this.send!(items.map((i) => i.batch))
        .then((owned) => items.forEach((item, i) => item.done(owned[i] === true)), (err: unknown) => items.forEach((item) => item.fail(err)))
        .finally(() => {
          this.inFlight--;
          this.flush();
        });
    }
  }

  /** Whether the chat has an open preview on this process (a joiner then needs its own snapshot). */
  hasPreview(chatId: string): boolean {
    return this.chats.get(chatId)?.preview !== undefined;
  }

  /**
   * Registers `listener` for the chat's preview items and returns the open preview so far (as
   * `parts` items in seq order). Both happen in one synchronous step: nothing is missed or repeated.
   */
  subscribe(chatId: string, listener: Listener): { snapshot: PreviewItem[]; unsubscribe: () => void } {
    const state = this.state(chatId);
    state.listeners.add(listener);
    const preview = state.preview;
    const snapshot: PreviewItem[] = preview ? preview.batches.map((b) => ({ kind: 'parts', attempt: preview.attempt, seq: b.seq, parts: b.parts })) : [];
    return {
      snapshot,
      unsubscribe: () => {
        state.listeners.delete(listener);
        this.forget(chatId, state);
      },
    };
  }

  /**
   * One NOTIFY payload from PARTS_CHANNEL (chunks of one message may arrive in several calls).
   * `order` is its arrival position among all notifications of the LISTEN connection.
   */
  receive(payload: string, order = ++this.arrivals): void {
    this.arrivals = Math.max(this.arrivals, order);
    const wire = this.reassemble(payload);
    if (!wire) return;
    if (wire.t === 'e') this.end(wire.c, wire.m);
    else this.accept({ chatId: wire.c, attempt: wire.a, seq: wire.s, parts: wire.p }, order);
  }

  /**
   * Settled log events, in order: a status that leaves RUNNING while a preview is open resets it
   * (the run ended without a message); an assistant message ends it (a writer that did not send
   * an end marker, e.g. psql). The log is read some time after its NOTIFY arrived, so a preview
   * may already belong to the next run: `orderOf(xid)` tells when the event's NOTIFY arrived, and
   * only a preview that started before it is affected (unknown order: it is).
   */
  onLog(events: readonly EventRow[], orderOf: (xid: string) => number | undefined = () => undefined): void {
    for (const event of events) {
      if (!event.chat_id) continue;
      const state = this.chats.get(event.chat_id);
      if (event.kind === 'status' && event.data.previous === 'running' && state) state.endedAttempt = -1; // the next run numbers afresh
      if (!state?.preview) continue;
      const order = orderOf(event.xid);
      if (order !== undefined && order < state.preview.startOrder) continue;
      if (event.kind === 'status' && event.data.previous === 'running') {
        this.reset(state, state.preview.attempt);
        state.preview = undefined;
        this.forget(event.chat_id, state);
      } else if (event.kind === 'message' && event.data.role === 'assistant' && event.message_id && BigInt(event.message_id) > state.lastEnded) {
        this.end(event.chat_id, [event.message_id]);
      }
    }
  }

  private state(chatId: string): ChatState {
    let state = this.chats.get(chatId);
    if (!state) {
      state = { preview: undefined, listeners: new Set(), tokens: this.burst, refilled: this.now(), lastEnded: 0n, endedAt: -Infinity, endedAttempt: -1 };
      this.chats.set(chatId, state);
    }
    return state;
  }

  /** Drops a chat's state once nothing needs it (no preview, no subscriber, bucket full again). */
  private forget(chatId: string, state: ChatState): void {
    if (state.preview || state.listeners.size > 0) return;
    if (this.now() - state.endedAt < 30_000) return; // the log's copy of a recent end marker is still to come
    const full = state.tokens + ((this.now() - state.refilled) / 1000) * this.rate >= this.burst;
    if (full) this.chats.delete(chatId);
  }

  private reassemble(payload: string): Wire | null {
    const m = /^([0-9a-z]+):(\d+):(\d+):/.exec(payload);
    if (!m) return null;
    const [head, id, index, count] = [m[0], m[1]!, Number(m[2]), Number(m[3])];
    const body = payload.slice(head.length);
    let json: string;
    if (count === 1) {
      json = body;
    } else {
      let entry = this.partial.get(id);
      if (!entry) {
        entry = { parts: new Array<string>(count), got: 0, at: this.now() };
        this.partial.set(id, entry);
      }
      if (entry.parts[index] === undefined) {
        entry.parts[index] = body;
        entry.got++;
      }
      if (entry.got < count) return null;
      this.partial.delete(id);
      json = entry.parts.join('');
    }
    try {
      return JSON.parse(json) as Wire;
    } catch {
      return null;
    }
  }

  private emit(state: ChatState, item: PreviewItem): void {
    for (const listener of state.listeners) listener(item);
  }

  private reset(state: ChatState, attempt: number): void {
    this.emit(state, { kind: 'reset', attempt });
  }

  private end(chatId: string, messageIds: string[]): void {
    const state = this.chats.get(chatId);
    if (!state) return;
    for (const id of messageIds) if (BigInt(id) > state.lastEnded) state.lastEnded = BigInt(id);
    state.endedAt = this.now();
    if (!state.preview) return;
    const attempt = state.preview.attempt;
    state.endedAttempt = attempt;
    state.preview = undefined;
    this.emit(state, { kind: 'end', attempt, messageIds });
    this.forget(chatId, state);
  }

  private accept(batch: PartsBatch, order: number): void {
    const state = this.state(batch.chatId);
    let preview = state.preview;
    if (preview ? batch.attempt < preview.attempt : batch.attempt <= state.endedAttempt) return; // a stale attempt
    if (preview && batch.attempt > preview.attempt) {
      // A new attempt: clients drop what they showed.
      this.reset(state, preview.attempt);
      preview = undefined;
    }
    if (!preview) {
      preview = { attempt: batch.attempt, startOrder: order, next: 0, batches: [], bytes: 0, held: new Map(), touched: this.now() };
      state.preview = preview;
    }
    preview.touched = this.now();
    const bytes = Buffer.byteLength(JSON.stringify(batch.parts));
    if (batch.seq < preview.next) return; // duplicate
    if (batch.seq > preview.next) {
      preview.held.set(batch.seq, { parts: batch.parts, bytes, at: this.now() });
      return;
    }
    this.deliver(state, preview, batch.seq, batch.parts, bytes);
    this.release(state, preview);
  }

  private deliver(state: ChatState, preview: Preview, seq: number, parts: PartDelta[], bytes: number): void {
    preview.batches.push({ seq, parts, bytes });
    preview.bytes += bytes;
    preview.next = seq + 1;
    this.emit(state, { kind: 'parts', attempt: preview.attempt, seq, parts });
    recordMessagePartsRelayed();
  }

  /** Delivers held batches that are now next in line. */
  private release(state: ChatState, preview: Preview): void {
    for (let held = preview.held.get(preview.next); held; held = preview.held.get(preview.next)) {
      preview.held.delete(preview.next);
      this.deliver(state, preview, preview.next, held.parts, held.bytes);
    }
  }

  /** Skips gaps that waited too long, drops stale partial chunks and idle previews. */
  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.partial) if (now - entry.at > this.holdMs * 5) this.partial.delete(id);
    for (const [chatId, state] of this.chats) {
      const preview = state.preview;
      if (!preview) {
        this.forget(chatId, state);
        continue;
      }
      if (preview.held.size > 0 && [...preview.held.values()].some((h) => now - h.at >= this.holdMs)) {
        preview.next = Math.min(...preview.held.keys());
        this.release(state, preview);
      }
      if (now - preview.touched > this.idleMs) {
        this.reset(state, preview.attempt);
        state.preview = undefined;
        this.forget(chatId, state);
      }
    }
  }
}
