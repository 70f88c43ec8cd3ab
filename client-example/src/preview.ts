/**
 * The message being generated, part by part (`chatEvents` MESSAGE_PART / PREVIEW_RESET). Parts
 * are live only (never stored, never replayed), so they live here rather than in the cache:
 *
 * - MESSAGE_PART: a higher `attempt` starts a new preview; deltas are appended in `seq` order
 *   (text to the text, reasoning to the reasoning, `argsDelta` to its tool call's arguments); a
 *   batch whose `seq` was already applied, or of an older attempt, changes nothing.
 * - PREVIEW_RESET: the preview is dropped (a new attempt is coming, or the run ended without a
 *   message).
 * - The stored assistant MESSAGE supersedes the preview: it is dropped when that message arrives.
 */

export interface PartDelta {
  type: 'TEXT' | 'REASONING' | 'TOOL_CALL';
  text?: string | null;
  argsDelta?: string | null;
  toolCallId?: string | null;
  toolName?: string | null;
}

export interface Preview {
  attempt: number;
  /** The last batch applied. */
  seq: number;
  text: string;
  reasoning: string;
  toolCalls: Array<{ toolCallId: string; toolName: string | null; args: string }>;
}

/** The preview after one MESSAGE_PART batch (a new object when anything changed). */
export function applyParts(preview: Preview | undefined, attempt: number, seq: number, parts: readonly PartDelta[]): Preview {
  if (preview && attempt < preview.attempt) return preview;
  const base: Preview = !preview || attempt > preview.attempt ? { attempt, seq: -1, text: '', reasoning: '', toolCalls: [] } : preview;
  if (seq <= base.seq) return base;
  const next: Preview = { ...base, seq, toolCalls: base.toolCalls.map((call) => ({ ...call })) };
  for (const part of parts) {
    if (part.type === 'TEXT') next.text += part.text ?? '';
    else if (part.type === 'REASONING') next.reasoning += part.text ?? '';
    else {
      const id = part.toolCallId ?? '';
      let call = next.toolCalls.find((c) => c.toolCallId === id);
      if (!call) {
        call = { toolCallId: id, toolName: part.toolName ?? null, args: '' };
        next.toolCalls.push(call);
      }
      if (part.toolName) call.toolName = part.toolName;
      call.args += part.argsDelta ?? '';
    }
  }
  return next;
}

/** Previews per chat, with change listeners (React reads it through useSyncExternalStore). */
export class PreviewStore {
  private readonly previews = new Map<string, Preview>();
  private readonly listeners = new Set<() => void>();

  get(chatId: string): Preview | undefined {
    return this.previews.get(chatId);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  part(chatId: string, attempt: number, seq: number, parts: readonly PartDelta[]): void {
    const before = this.previews.get(chatId);
    const after = applyParts(before, attempt, seq, parts);
    if (after !== before) this.set(chatId, after);
  }

  /** PREVIEW_RESET, or the stored message arrived. */
  drop(chatId: string): void {
    if (this.previews.has(chatId)) this.set(chatId, undefined);
  }

  private set(chatId: string, preview: Preview | undefined): void {
    if (preview) this.previews.set(chatId, preview);
    else this.previews.delete(chatId);
    for (const listener of this.listeners) listener();
  }
}
