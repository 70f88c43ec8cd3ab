import type { MessagePart } from './content.js';
import { ValidationError } from './errors.js';

/** ChatInputPart as the API receives it. */
export interface ChatInputPart {
  type: 'TEXT' | 'FILE' | 'FILE_REFERENCE';
  text?: string | null;
  fileId?: string | null;
  fileName?: string | null;
  startLine?: number | null;
  endLine?: number | null;
  content?: string | null;
  mediaType?: string | null;
}

/** Limits on user content (documented in the README): enough for pasted code, small enough for one row. */
export const MAX_PARTS = 50;
export const MAX_CONTENT_BYTES = 256 * 1024;
export const MAX_TITLE_LENGTH = 200;

/** Turns input parts into stored version-1 parts; empty, oversized or incomplete content is a ValidationError. */
export function contentFromInput(parts: readonly ChatInputPart[], field = 'content'): MessagePart[] {
  if (parts.length === 0) throw new ValidationError('Content needs at least one part', field);
  if (parts.length > MAX_PARTS) throw new ValidationError(`Content has ${parts.length} parts; the limit is ${MAX_PARTS}`, field);
  const out = parts.map((p, i): MessagePart => {
    const where = `${field}[${i}]`;
    switch (p.type) {
      case 'TEXT':
        if (typeof p.text !== 'string' || p.text.trim() === '') throw new ValidationError(`${where}: a TEXT part needs non-empty text`, where);
        return { type: 'text', text: p.text };
      case 'FILE':
        if (!p.fileId) throw new ValidationError(`${where}: a FILE part needs fileId`, where);
        return { type: 'file', fileId: p.fileId, mediaType: p.mediaType ?? 'application/octet-stream', name: p.fileName ?? null };
      case 'FILE_REFERENCE': {
        const { fileName, startLine, endLine, content } = p;
        if (!fileName || startLine == null || endLine == null || content == null) {
          throw new ValidationError(`${where}: a FILE_REFERENCE part needs fileName, startLine, endLine and content`, where);
        }
        if (startLine < 1 || endLine < startLine) throw new ValidationError(`${where}: lines must satisfy 1 <= startLine <= endLine`, where);
        return { type: 'file-reference', fileName, startLine, endLine, content };
      }
      default:
        throw new ValidationError(`${where}: unknown part type`, where);
    }
  });
  const bytes = Buffer.byteLength(JSON.stringify(out));
  if (bytes > MAX_CONTENT_BYTES) throw new ValidationError(`Content is ${bytes} bytes; the limit is ${MAX_CONTENT_BYTES}`, field);
  return out;
}

/** A title from input: trimmed, non-empty, at most 200 characters. */
export function titleFromInput(title: string, field = 'title'): string {
  const t = title.trim();
  if (t === '' || [...t].length > MAX_TITLE_LENGTH) throw new ValidationError(`Title must be 1-${MAX_TITLE_LENGTH} characters`, field);
  return t;
}

/** Labels: a flat JSON object of string values, at most 50 keys. */
export function labelsFromInput(labels: unknown, field = 'labels'): Record<string, string> {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) throw new ValidationError('Labels must be a JSON object', field);
  const entries = Object.entries(labels as Record<string, unknown>);
  if (entries.length > 50) throw new ValidationError('At most 50 labels', field);
  for (const [k, v] of entries) {
    if (typeof v !== 'string' || k.length > 64 || v.length > 256) throw new ValidationError('Labels map keys (<= 64 chars) to string values (<= 256 chars)', field);
  }
  return labels as Record<string, string>;
}
