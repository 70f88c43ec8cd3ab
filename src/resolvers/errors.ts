/**
 * Domain failures. Mutations return them as typed members of their result union (errors
 * plugin); queries surface them as GraphQL errors with `extensions.code` (see yoga.ts maskError).
 * Anything else is unexpected and masked.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  /** Extra `extensions` entries the client may act on (e.g. a cursor to resume from). */
  get extensions(): Record<string, unknown> | undefined {
    return undefined;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'BAD_USER_INPUT';
  constructor(message: string, readonly field?: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(message: string, readonly id?: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'Not allowed') {
    super(message);
    this.name = 'ForbiddenError';
  }
}

export class InvalidModelConfigError extends DomainError {
  readonly code = 'INVALID_MODEL_CONFIG';
  constructor(message: string, readonly modelConfigId?: string) {
    super(message);
    this.name = 'InvalidModelConfigError';
  }
}

export class ChatArchivedError extends DomainError {
  readonly code = 'CHAT_ARCHIVED';
  constructor(readonly chatId: string, message = 'The chat is archived; unarchive it first') {
    super(message);
    this.name = 'ChatArchivedError';
  }
}

export class QueueFullError extends DomainError {
  readonly code = 'QUEUE_FULL';
  constructor(readonly limit: number) {
    super(`The chat already has ${limit} queued messages`);
    this.name = 'QueueFullError';
  }
}

/**
 * A watch-stream failure the client can act on: a cursor it cannot resume from (CURSOR_EXPIRED),
 * a database outage longer than the bound (STREAM_INTERRUPTED), or a stream that is not
 * available right now (UNAVAILABLE: starting, or shutting down). The message says what to do; `cursor`, when set, is the last
 * event delivered, sent as `extensions.cursor`.
 */
export class EventStreamError extends DomainError {
  constructor(
    readonly code: 'CURSOR_EXPIRED' | 'UNAVAILABLE' | 'STREAM_INTERRUPTED',
    message: string,
    readonly cursor?: string,
  ) {
    super(message);
    this.name = 'EventStreamError';
  }

  override get extensions(): Record<string, unknown> | undefined {
    return this.cursor === undefined ? undefined : { cursor: this.cursor };
  }
}

/** A per-user or per-address rate limit was hit; `retryAfterSeconds` says when to try again. */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  /** The same wait in milliseconds (sub-second limits, such as streamed parts per chat, need it). */
  readonly retryAfterMs: number;
  constructor(readonly what: string, readonly retryAfterSeconds: number, retryAfterMs?: number) {
    super(retryAfterMs !== undefined && retryAfterMs < 1000 ? `Too many ${what}; retry in ${retryAfterMs} ms` : `Too many ${what}; retry in ${retryAfterSeconds} s`);
    this.name = 'RateLimitedError';
    this.retryAfterMs = retryAfterMs ?? retryAfterSeconds * 1000;
  }
  override get extensions() {
    return { retryAfterSeconds: this.retryAfterSeconds, retryAfterMs: this.retryAfterMs };
  }
}

/** The response would exceed the response-size bound; ask for smaller pages or fewer fields. */
export class ResponseTooLargeError extends DomainError {
  readonly code = 'RESPONSE_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`The response would exceed ${limit} bytes of content; ask for smaller pages or fewer fields`);
    this.name = 'ResponseTooLargeError';
  }
  override get extensions() {
    return { limit: this.limit };
  }
}
