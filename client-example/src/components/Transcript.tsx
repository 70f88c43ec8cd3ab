import type { Message } from '../liveMerge.js';

type Part = Message['parts'][number];

/** The transcript: text as paragraphs, reasoning collapsed, tool calls and results as labelled JSON. */
export function Transcript({ messages }: { messages: Message[] }) {
  if (messages.length === 0) return <p className="empty">No messages yet.</p>;
  return (
    <ol className="transcript" data-testid="transcript">
      {messages.map((m) => (
        <li key={m.id} className={`message role-${m.role.toLowerCase()}`} data-testid="message">
          <div className="message-meta">
            <span className="role">{m.role.toLowerCase()}</span>
            {m.modelConfig && <span className="muted">{m.modelConfig.displayName}</span>}
            <time className="muted" dateTime={m.createdAt}>{new Date(m.createdAt).toLocaleTimeString()}</time>
            {m.totalCostMicros != null && <span className="muted">${(Number(m.totalCostMicros) / 1e6).toFixed(4)}</span>}
          </div>
          {m.parts.map((part, i) => <PartView key={i} part={part} />)}
        </li>
      ))}
    </ol>
  );
}

const json = (value: unknown) => JSON.stringify(value, null, 2);

function PartView({ part }: { part: Part }) {
  switch (part.__typename) {
    case 'ChatTextPart':
      return <p className="text">{part.text}</p>;
    case 'ChatReasoningPart':
      return <details className="reasoning"><summary>Reasoning</summary><p>{part.text}</p></details>;
    case 'ChatToolCallPart':
      return <details className="tool-call"><summary>Tool call <code>{part.toolName}</code></summary><pre>{json(part.args)}</pre></details>;
    case 'ChatToolResultPart':
      return (
        <details className={`tool-result${part.isError ? ' is-error' : ''}`}>
          <summary>{part.isError ? 'Tool error' : 'Tool result'} <code>{part.toolName}</code></summary>
          <pre>{typeof part.result === 'string' ? part.result : json(part.result)}</pre>
        </details>
      );
    case 'ChatSourcePart':
      return <p className="source">Source: <a href={part.url} target="_blank" rel="noreferrer">{part.title ?? part.url}</a></p>;
    case 'ChatFilePart':
      return <p className="file">File: {part.name ?? 'unnamed'} <span className="muted">{part.mediaType}</span></p>;
    case 'ChatFileReferencePart':
      return <details className="file-ref"><summary><code>{part.fileName}:{part.startLine}-{part.endLine}</code></summary><pre>{part.content}</pre></details>;
    case 'ChatContextFilePart':
      return <p className="context-file muted">Context: <code>{part.path}</code>{part.truncated ? ' (truncated)' : ''}</p>;
  }
}
