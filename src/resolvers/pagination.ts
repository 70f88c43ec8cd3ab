import { ValidationError } from './errors.js';

/** Relay arguments as the API receives them. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A validated keyset page request: direction, size, and the decoded cursor key (if any). */
export interface PageRequest<K> {
  /** 'forward' = first/after in the connection's natural order; 'backward' = last/before. */
  direction: 'forward' | 'backward';
  limit: number;
  cursor: K | null;
}

export interface PageResult<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/**
 * Opaque cursors: base64url of `<kind>:<payload>`. The kind ties a cursor to its connection, so a
 * chat cursor given to a message connection is rejected instead of silently mis-paging.
 */
export function encodeCursor(kind: string, payload: string): string {
  return Buffer.from(`${kind}:${payload}`, 'utf8').toString('base64url');
}

/** Decodes a cursor of `kind`; a malformed or foreign cursor is a ValidationError. */
export function decodeCursor(kind: string, cursor: string, arg: string): string {
  const text = /^[A-Za-z0-9_-]{1,400}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  if (!text.startsWith(`${kind}:`)) throw new ValidationError(`Invalid cursor in "${arg}": not a cursor of this list`, arg);
  return text.slice(kind.length + 1);
}

/** Validates first/last/after/before (1..100, not both directions) and decodes the cursor with `parse`. */
export function pageRequest<K>(args: PageArgs, parse: (cursor: string, arg: string) => K): PageRequest<K> {
  const { first, last, after, before } = args;
  if (first != null && last != null) throw new ValidationError('Pass either "first" or "last", not both', 'first');
  if (after != null && before != null) throw new ValidationError('Pass either "after" or "before", not both', 'after');
  if (last != null && after != null) throw new ValidationError('"last" pages backwards: use it with "before"', 'after');
  if (first != null && before != null) throw new ValidationError('"first" pages forwards: use it with "after"', 'before');
  for (const [name, value] of [['first', first], ['last', last]] as const) {
    if (value != null && (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE)) {
      throw new ValidationError(`"${name}" must be between 1 and ${MAX_PAGE_SIZE}`, name);
    }
  }
  const backward = last != null || before != null;
  return {
    direction: backward ? 'backward' : 'forward',
    limit: (backward ? last : first) ?? DEFAULT_PAGE_SIZE,
    cursor: after != null ? parse(after, 'after') : before != null ? parse(before, 'before') : null,
  };
}

/**
 * Builds a connection from rows fetched with limit + 1 in the direction of travel (backward
 * rows arrive reversed). The extra row only tells that another page exists; the side we came
 * from reports a previous page when a cursor was given (Relay allows this cheap answer).
 */
export function toConnection<T>(request: PageRequest<unknown>, rows: T[], cursorOf: (row: T) => string): PageResult<T> {
  const more = rows.length > request.limit;
  const page = more ? rows.slice(0, request.limit) : rows;
  if (request.direction === 'backward') page.reverse();
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: request.direction === 'forward' ? more : request.cursor !== null,
      hasPreviousPage: request.direction === 'backward' ? more : request.cursor !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
