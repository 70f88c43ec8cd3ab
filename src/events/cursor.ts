import type { EventPosition } from './log.js';
import { ERROR_CODES } from '../codes.js';

/**
 * Cursors: base64url of "v1:<xid>:<seq>", a position in the log. Opaque to clients; the version
 * prefix lets the format change later without misreading old cursors. Resuming after a cursor
 * is exact because positions are totally ordered and the settled log only grows at its end.
 */

const MAX_XID = 2n ** 64n - 1n;
const MAX_SEQ = 2n ** 63n - 1n;
const CURSOR_SHAPE = /^v1:(0|[1-9]\d{0,19}):(0|[1-9]\d{0,18})$/;

/** A client sent a cursor this server did not issue (GraphQL: extensions.code INVALID_CURSOR). */
export class InvalidEventCursorError extends Error {
  readonly code = ERROR_CODES.INVALID_CURSOR;
  constructor() {
    super('Invalid event cursor: pass the cursor of an event you received, or omit it');
    this.name = 'InvalidEventCursorError';
  }
}

/** Events after the cursor were pruned (GraphQL: extensions.code CURSOR_EXPIRED). */
export class EventCursorExpiredError extends Error {
  readonly code = ERROR_CODES.CURSOR_EXPIRED;
  constructor(retentionHint = 'the retention window') {
    super(`Event cursor expired: events after it were pruned (older than ${retentionHint}); refetch the data and subscribe again without a cursor`);
    this.name = 'EventCursorExpiredError';
  }
}

/** The opaque cursor of a log position. */
export function encodeEventCursor(position: EventPosition): string {
  return Buffer.from(`v1:${position.xid}:${position.seq}`, 'utf8').toString('base64url');
}

/** The position a cursor names; throws InvalidEventCursorError for anything this server did not issue. */
export function decodeEventCursor(cursor: string): EventPosition {
  if (cursor.length === 0 || cursor.length > 64 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidEventCursorError();
  const match = CURSOR_SHAPE.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new InvalidEventCursorError();
  const [, xid, seq] = match as unknown as [string, string, string];
  if (BigInt(xid) > MAX_XID || BigInt(seq) > MAX_SEQ) throw new InvalidEventCursorError();
  return { xid, seq };
}
