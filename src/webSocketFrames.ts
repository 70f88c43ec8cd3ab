import type { Socket } from 'node:net';
import type { ExecutionResult } from 'graphql';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from './codes.js';
import { recordNextFrame, recordPayloadSerialized } from './metrics.js';

/**
 * How graphql-ws frames reach a socket: serialised once per event, corked per macrotask, and
 * bounded per socket. Each function wraps `socket.send` of one ws socket; they are installed on
 * `connection` before graphql-ws's own handler, so every frame graphql-ws sends goes through them.
 */

/**
 * Serialises each event result once, whatever the number of subscriptions it goes to.
 *
 * Identical subscriptions share one execution (src/events/sharedExecutions.ts), so they receive
 * the same result object; graphql-ws would still `JSON.stringify` it once per subscription (the
 * issue's profile: 3 s in `stringifyMessage` for 50 subscriptions of ~1 MB events). graphql-ws
 * offers no raw-payload hook, so the serialised payload is spliced in instead: `onNext` returns
 * an empty placeholder payload and remembers the cached JSON under the operation id; the send
 * wrapper sees `{"id":…,"type":"next","payload":{}}` (graphql-ws writes those three keys in that
 * order) and sends the cached JSON in place of `{}`. A frame without a remembered payload is sent
 * as it is, so nothing but the cost changes. A large payload is also encoded to UTF-8 once and
 * sent as the same buffer on every socket (a fragmented text message), so 50 subscriptions of a
 * 4 MB event hold one 4 MB buffer, not fifty.
 */
export class SharedFrames {
  /** Each result's JSON, kept as long as the result itself (queued for some subscriber). */
  private readonly json = new WeakMap<object, Payload>();
  /** Per socket: operation id → payload waiting for graphql-ws's send of that operation. */
  private readonly pending = new WeakMap<object, Map<string, Payload>>();
  /** Payload serialisations so far (≤ frames: equal only when nothing was shared). */
  serializations = 0;
  /** `next` frames sent with a spliced payload. */
  frames = 0;

  /** graphql-ws `onNext`: the placeholder payload to send for `result` on operation `id` of `socket`. */
  next(socket: WebSocket, id: string, result: ExecutionResult): Record<string, never> {
    let payload = this.json.get(result);
    if (payload === undefined) {
      // graphql-ws's own wire form: the result without `errors`, then the errors' JSON if any.
      const { errors, ...rest } = result;
      const text = JSON.stringify(errors ? { ...rest, errors: errors.map((e) => e.toJSON()) } : rest);
      // A large payload is encoded once too, and every socket sends that same buffer.
      payload = { text, bytes: text.length >= FRAGMENT_AT ? Buffer.from(text) : null };
      this.json.set(result, payload);
      this.serializations++;
      recordPayloadSerialized();
    }
    let waiting = this.pending.get(socket);
    if (!waiting) this.pending.set(socket, (waiting = new Map()));
    waiting.set(id, payload);
    return {};
  }

  /** Wraps `socket.send` so that placeholder frames carry their cached payload. */
  install(socket: WebSocket): void {
    const send = socket.send.bind(socket) as (data: unknown, ...rest: unknown[]) => void;
    socket.send = ((data: unknown, ...rest: unknown[]) => {
      if (typeof data === 'string' && data.endsWith(PLACEHOLDER_TAIL) && data.startsWith('{"id":')) {
        const waiting = this.pending.get(socket);
        const id = waiting && (JSON.parse(data.slice(6, -PLACEHOLDER_TAIL.length)) as string);
        const payload = id !== undefined ? waiting?.get(id) : undefined;
        if (payload !== undefined) {
          waiting!.delete(id!);
          this.frames++;
          recordNextFrame(payload.text.length);
          if (payload.bytes) return sendShared(send, data, payload.bytes, rest);
          data = `${data.slice(0, -3)}${payload.text}}`; // `…"payload":` + payload + `}`
        }
      }
      return send(data, ...rest);
    }) as WebSocket['send'];
  }
}

/**
 * Sends a placeholder frame with a large shared payload as one text message in three fragments,
 * the middle one the shared buffer: no copy of the payload per socket. The three calls are
 * synchronous, so no other frame can come between them (ws writes at once; permessage-deflate
 * is off).
 */
function sendShared(send: (data: unknown, ...rest: unknown[]) => void, frame: string, bytes: Buffer, rest: unknown[]): void {
  send(frame.slice(0, -3), { fin: false, binary: false }); // `{"id":…,"type":"next","payload":`
  send(bytes, { fin: false, binary: false });
  send('}', { fin: true, binary: false }, ...rest.filter((r) => typeof r === 'function'));
}

/** One result's serialised payload (and its UTF-8 bytes when large enough to send shared). */
interface Payload {
  text: string;
  bytes: Buffer | null;
}

/** Payloads from this many characters on are sent as a shared buffer between two small fragments. */
const FRAGMENT_AT = 16 * 1024;

/** The end of a `next` frame whose payload is the placeholder (3 characters `{}}` replaced). */
const PLACEHOLDER_TAIL = ',"type":"next","payload":{}}';

/**
 * Batches a socket's frames written in one macrotask into one write. An event fanned out to
 * the 50 subscriptions of one socket would otherwise cost 50 syscalls; the fan-out bench showed
 * socket writes dominating server CPU at 5,000 subscribers. Corking delays a frame by at most
 * the rest of the current macrotask.
 */
export function coalesceWrites(socket: WebSocket): void {
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  if (!raw) return;
  const send = socket.send.bind(socket);
  let corked = false;
  socket.send = ((...args: Parameters<WebSocket['send']>) => {
    if (!corked && !raw.destroyed) {
      corked = true;
      raw.cork();
      setImmediate(() => {
        corked = false;
        raw.uncork();
      });
    }
    return send(...args);
  }) as WebSocket['send'];
}

/** Closes a socket as a slow consumer (documented close code; the client resumes from its cursors). */
export function closeSlow(socket: WebSocket, why: string): void {
  if (socket.readyState !== socket.OPEN) return;
  socket.close(CLOSE_CODES.SLOW_CONSUMER, `Slow consumer: ${why}; reconnect and resubscribe with your last cursors`);
}

/** How long a socket may stay over its buffered-bytes bound before it is closed (at most WS_STALL_MS). */
const OVER_BOUND_GRACE_MS = 1000;

/**
 * Bounds what one socket may hold unsent. Past `maxBytes` buffered for a second, or with unsent bytes and no
 * drain for `stallMs`, the socket is closed with the slow-consumer code: a client that stops
 * reading cannot grow the server's memory, and (through shared executions) cannot hold up the
 * clients that do read. graphql-ws already waits for each frame's write before pulling the
 * operation's next event, so what piles up is at most about one frame per operation plus the
 * kernel's buffers; the hub below keeps its own bound and catches up from the log.
 */
export function guardSlowConsumer(socket: WebSocket, maxBytes: number, stallMs: number): void {
  const raw = (socket as unknown as { _socket?: Socket })._socket;
  let drained = false;
  let timer: NodeJS.Timeout | undefined;
  raw?.on('drain', () => (drained = true));
  const watch = () => {
    timer = setTimeout(() => {
      timer = undefined;
      if (socket.bufferedAmount === 0) return;
      if (!drained) return closeSlow(socket, `nothing drained for ${stallMs} ms`);
      drained = false;
      watch();
    }, stallMs);
    timer.unref();
  };
  // Over the byte bound, the socket gets a short grace to drain before it is closed: one event
  // fanned out to many operations of a socket is written in one macrotask (corked), so a client
  // that reads at once can be over the bound for an instant (50 operations × a 1 MB event).
  // Meanwhile graphql-ws holds at most one frame per operation (it awaits each write), so the
  // grace bounds memory too.
  const graceMs = Math.min(stallMs, OVER_BOUND_GRACE_MS);
  let overBound: NodeJS.Timeout | undefined;
  socket.once('close', () => {
    clearTimeout(timer);
    clearTimeout(overBound);
  });
  const send = socket.send.bind(socket);
  socket.send = ((...args: Parameters<WebSocket['send']>) => {
    send(...args);
    if (socket.bufferedAmount > maxBytes && !overBound) {
      overBound = setTimeout(() => {
        overBound = undefined;
        if (socket.bufferedAmount > maxBytes) closeSlow(socket, `more than ${maxBytes} bytes unsent for ${graceMs} ms`);
      }, graceMs);
      overBound.unref();
    }
    if (socket.bufferedAmount > 0 && !timer) {
      drained = false;
      watch();
    }
  }) as WebSocket['send'];
}
