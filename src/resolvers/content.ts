import type { MessageRole } from '../db/models.js';
import { DomainError } from './errors.js';

/** A message part as the API exposes it (the ChatMessagePart union). */
export type MessagePart =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool-call'; toolCallId: string; toolName: string; args: unknown }
  | { type: 'tool-result'; toolCallId: string; toolName: string; result: unknown; isError: boolean }
  | { type: 'source'; url: string; title: string | null }
  | { type: 'file'; mediaType: string; fileId: string; name: string | null }
  | { type: 'file-reference'; fileName: string; startLine: number; endLine: number; content: string }
  | { type: 'context-file'; path: string; truncated: boolean };

/** Stored content that cannot be read: an error on that message's field, never a crash of the response. */
export class ContentError extends DomainError {
  readonly code = 'UNREADABLE_CONTENT';
  constructor(message: string) {
    super(message);
    this.name = 'ContentError';
  }
}

const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Validates one version-1 part; the stored shape is the API shape. */
function partV1(raw: unknown, index: number): MessagePart {
  const p = (raw ?? {}) as Record<string, unknown>;
  const bad = () => new ContentError(`part ${index} of type "${String(p.type)}" is malformed`);
  switch (p.type) {
    case 'text':
    case 'reasoning':
      if (!str(p.text)) throw bad();
      return { type: p.type, text: p.text };
    case 'tool-call':
      if (!str(p.toolCallId) || !str(p.toolName)) throw bad();
      return { type: 'tool-call', toolCallId: p.toolCallId, toolName: p.toolName, args: p.args ?? null };
    case 'tool-result':
      if (!str(p.toolCallId) || !str(p.toolName)) throw bad();
      return { type: 'tool-result', toolCallId: p.toolCallId, toolName: p.toolName, result: p.result ?? null, isError: p.isError === true };
    case 'source':
      if (!str(p.url)) throw bad();
      return { type: 'source', url: p.url, title: str(p.title) ? p.title : null };
    case 'file':
      if (!str(p.fileId)) throw bad();
      return { type: 'file', fileId: p.fileId, mediaType: str(p.mediaType) ? p.mediaType : 'application/octet-stream', name: str(p.name) ? p.name : null };
    case 'file-reference':
      if (!str(p.fileName) || !num(p.startLine) || !num(p.endLine) || !str(p.content)) throw bad();
      return { type: 'file-reference', fileName: p.fileName, startLine: p.startLine, endLine: p.endLine, content: p.content };
    case 'context-file':
      if (!str(p.path)) throw bad();
      return { type: 'context-file', path: p.path, truncated: p.truncated === true };
    default:
      throw new ContentError(`part ${index} has unknown type "${String(p.type)}"`);
  }
}

function parseJsonArgs(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Version 0 (legacy rows written before parts existed):
 * - a plain JSON string → one text part (any role);
 * - an array of parts with snake_case names (`tool_call`, `tool_call_id`, `tool_name`, `is_error`);
 * - assistant objects `{ content|text, reasoning?, tool_calls?: [{ id, name, arguments }] }`
 *   where `arguments` may be a JSON string;
 * - tool objects `{ tool_call_id, name|tool_name, content|result, is_error? }`;
 * - user/system objects `{ content|text }`.
 */
function partsV0(content: unknown, role: MessageRole): MessagePart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (Array.isArray(content)) {
    return content.map((raw, i) => {
      const p = { ...(raw as Record<string, unknown>) };
      if (typeof p.type === 'string') p.type = p.type.replace(/_/g, '-');
      p.toolCallId ??= p.tool_call_id;
      p.toolName ??= p.tool_name;
      p.isError ??= p.is_error;
      if (p.type === 'tool-call') p.args = parseJsonArgs(p.args ?? p.arguments);
      return partV1(p, i);
    });
  }
  if (content && typeof content === 'object') {
    const o = content as Record<string, unknown>;
    if (role === 'tool' && str(o.tool_call_id)) {
      const name = str(o.name) ? o.name : str(o.tool_name) ? o.tool_name : 'unknown';
      return [{ type: 'tool-result', toolCallId: o.tool_call_id, toolName: name, result: o.result ?? o.content ?? null, isError: o.is_error === true }];
    }
    const parts: MessagePart[] = [];
    if (str(o.reasoning) && o.reasoning !== '') parts.push({ type: 'reasoning', text: o.reasoning });
    const text = str(o.content) ? o.content : str(o.text) ? o.text : null;
    if (text !== null && text !== '') parts.push({ type: 'text', text });
    if (Array.isArray(o.tool_calls)) {
      for (const call of o.tool_calls as Array<Record<string, unknown>>) {
        if (!str(call.id) || !str(call.name)) throw new ContentError('legacy tool call without id or name');
        parts.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, args: parseJsonArgs(call.arguments) });
      }
    }
    if (parts.length > 0 || text === '') return parts;
  }
  throw new ContentError(`legacy (version 0) ${role} content has an unrecognised shape`);
}

/** Reads stored content of any known version into parts; throws ContentError otherwise. */
export function parseContent(content: unknown, version: number, role: MessageRole): MessagePart[] {
  if (version === 1) {
    if (!Array.isArray(content)) throw new ContentError('version 1 content must be an array of parts');
    return content.map(partV1);
  }
  if (version === 0) return partsV0(content, role);
  throw new ContentError(`unknown content version ${version}`);
}

/** The plain text of parts (text parts only), as used by turn summaries. */
export function plainText(parts: MessagePart[]): string {
  return parts
    .filter((p): p is Extract<MessagePart, { type: 'text' }> => p.type === 'text')
    .map((p) => p.text)
    .join('\n');
}

export const TURN_SUMMARY_MAX = 200;

/** Turn summary rule: trimmed, whitespace-collapsed, truncated to 200 characters with an ellipsis. */
export function summarize(parts: MessagePart[]): string | null {
  return summarizeText(plainText(parts));
}

/**
 * The turn summary rule on plain text. Only a bounded head is examined (collapsing whitespace over a whole
 * transcript per chat per request showed up in the dashboard profile).
 */
export function summarizeText(raw: string): string | null {
  const text = raw.trimStart().slice(0, 4 * TURN_SUMMARY_MAX).replace(/\s+/g, ' ').trim();
  if (text === '') return null;
  if (text.length <= TURN_SUMMARY_MAX) return text;
  // 2 UTF-16 units per code point at most: this slice holds at least 200 code points.
  const chars = Array.from(text.slice(0, 2 * TURN_SUMMARY_MAX));
  return chars.length <= TURN_SUMMARY_MAX && text.length <= 2 * TURN_SUMMARY_MAX
    ? text
    : `${chars.slice(0, TURN_SUMMARY_MAX - 1).join('').trimEnd()}…`;
}
