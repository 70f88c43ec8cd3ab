import type { Context } from '../context.js';
import { encodeBatch, type PartDelta } from '../events/messageParts.js';
import { EventStreamError, ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from './errors.js';
import { notOwnerMessage, workerIdFromInput } from './runs.js';

/** publishChatMessageParts takes at most this many deltas per batch. */
export const MAX_BATCH_PARTS = 100;
/** A batch's deltas may take at most this many bytes as JSON (a few NOTIFY chunks). */
export const MAX_BATCH_BYTES = 32 * 1024;
const MAX_ATTEMPT = 2 ** 31 - 1;

const str = (v: unknown): v is string => typeof v === 'string';

/** Validates the deltas of one batch: text, reasoning, or a fragment of a tool call's JSON arguments. */
export function partsFromInput(raw: unknown): PartDelta[] {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_BATCH_PARTS) {
    throw new ValidationError(`parts must be a JSON array of 1-${MAX_BATCH_PARTS} deltas`, 'parts');
  }
  return raw.map((p: Record<string, unknown> | null, i): PartDelta => {
    const bad = (why: string) => new ValidationError(`parts[${i}]: ${why}`, `parts[${i}]`);
    if (p === null || typeof p !== 'object') throw bad('must be an object');
    switch (p.type) {
      case 'text':
      case 'reasoning':
        if (!str(p.text)) throw bad(`a ${p.type} delta needs "text"`);
        return { type: p.type, text: p.text };
      case 'tool-call':
        if (!str(p.toolCallId) || p.toolCallId === '') throw bad('a tool-call delta needs "toolCallId"');
        if (p.toolName != null && !str(p.toolName)) throw bad('"toolName" must be a string');
        if (p.argsDelta != null && !str(p.argsDelta)) throw bad('"argsDelta" must be a string (a fragment of the JSON arguments)');
        return { type: 'tool-call', toolCallId: p.toolCallId, toolName: (p.toolName as string | undefined) ?? null, argsDelta: (p.argsDelta as string | undefined) ?? '' };
      default:
        throw bad(`unknown delta type "${String(p.type)}" (text, reasoning, tool-call)`);
    }
  });
}

export interface PublishInput {
  chatId: string;
  workerId: string;
  attempt: number;
  seq: number;
  parts?: unknown;
}

/**
 * Relays one batch of deltas of the message being generated to every subscriber of the chat,
 * on every replica (NOTIFY, chunked; nothing is written). Only the worker running the chat may
 * publish; bounds per chat (rate, preview size) answer typed errors and never wait.
 */
export async function publishChatMessageParts(input: PublishInput, ctx: Context): Promise<{ chatId: string; attempt: number; seq: number }> {
  const workerId = workerIdFromInput(input.workerId);
  if (!Number.isInteger(input.attempt) || input.attempt < 0 || input.attempt > MAX_ATTEMPT) throw new ValidationError('attempt must be a non-negative integer', 'attempt');
  if (!Number.isInteger(input.seq) || input.seq < 0 || input.seq > MAX_ATTEMPT) throw new ValidationError('seq must be a non-negative integer', 'seq');
  const parts = partsFromInput(input.parts);
  const bytes = Buffer.byteLength(JSON.stringify(parts));
  if (bytes > MAX_BATCH_BYTES) throw new ValidationError(`parts: ${bytes} bytes; the limit per batch is ${MAX_BATCH_BYTES}`, 'parts');
  await ctx.limits?.take('publishes', ctx.viewer!.user.id);
  const relay = ctx.parts;
  if (!relay) throw new EventStreamError('UNAVAILABLE', 'Message parts are not relayed by this server');
  const admitted = relay.admit(input.chatId, input.attempt, bytes);
  if (!admitted.ok && admitted.reason === 'rate') {
    throw new RateLimitedError(`part batches for chat ${input.chatId}`, Math.ceil(admitted.retryAfterMs / 1000), admitted.retryAfterMs);
  }
  if (!admitted.ok) {
    throw new ValidationError(`The preview of attempt ${input.attempt} would exceed ${admitted.limit} bytes; append the message instead`, 'parts');
  }
  const payloads = encodeBatch({ chatId: input.chatId, attempt: input.attempt, seq: input.seq, parts });
  if (!(await relay.publish({ chatId: input.chatId, workerId, payloads }))) {
    // The failure path only: say why.
    const [chat] = await ctx.db.chats.byIds([input.chatId]);
    if (!chat) throw new NotFoundError('Chat not found', input.chatId);
    throw new ForbiddenError(notOwnerMessage(chat, workerId));
  }
  return { chatId: input.chatId, attempt: input.attempt, seq: input.seq };
}
