import { createContext, useContext, useSyncExternalStore } from 'react';
import type { LiveMerge } from './liveMerge.js';
import type { Preview } from './preview.js';

/** The session's live merge, for the few things that live outside the cache (previews). */
export const LiveMergeContext = createContext<LiveMerge | null>(null);

/** The message being generated in a chat, re-rendered as its parts arrive. */
export function usePreview(chatId: string): Preview | undefined {
  const merge = useContext(LiveMergeContext);
  return useSyncExternalStore(
    (listener) => merge?.previews.subscribe(listener) ?? (() => {}),
    () => merge?.previews.get(chatId),
  );
}

export function PreviewMessage({ chatId }: { chatId: string }) {
  const preview = usePreview(chatId);
  if (!preview) return null;
  return (
    <div className="message role-assistant preview" data-testid="preview" aria-live="polite">
      <div className="message-meta"><span className="role">assistant</span><span className="muted">generating…</span></div>
      {preview.reasoning && <details className="reasoning"><summary>Reasoning</summary><p>{preview.reasoning}</p></details>}
      {preview.text && <p className="text">{preview.text}</p>}
      {preview.toolCalls.map((call) => (
        <details key={call.toolCallId} className="tool-call"><summary>Tool call <code>{call.toolName}</code></summary><pre>{call.args}</pre></details>
      ))}
    </div>
  );
}
