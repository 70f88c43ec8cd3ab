import { useEffect, useState } from 'react';
import { useMutation, useQuery, useSubscription } from 'urql';
import {
  ArchiveMutation, ChatEventsSubscription, ChatMessagesQuery, ChatViewQuery, DeleteQueuedMutation, MarkReadMutation, PromoteQueuedMutation, SendMessageMutation, UnarchiveMutation,
} from '../documents.js';
import type { ChatSummary } from '../liveMerge.js';
import { PreviewMessage } from '../livePreview.js';
import { prState, StatusIcon, statusLabel } from './icons.js';
import { Transcript } from './Transcript.js';

/** One chat: header, PR card, transcript, queue and send box; live via chatEvents. */
export function ChatView({ chatId }: { chatId: string }) {
  const [{ data: result, error, fetching, stale }] = useQuery({ query: ChatViewQuery, variables: { id: chatId } });
  // When a queue change does not add up, the live merge invalidates the chat's queue (liveMerge.ts,
  // rule 4a): until the refetch answers, the query has no chat (the queue is a required field).
  // Keep showing the chat it had meanwhile, rather than "does not exist".
  const [shown, setShown] = useState(result);
  if (result?.chat && result !== shown) setShown(result);
  const data = !result?.chat && stale && shown?.chat?.id === chatId ? shown : result;
  useSubscription({ query: ChatEventsSubscription, variables: { chatId } });
  const [archiveState, archive] = useMutation(ArchiveMutation);
  const [, unarchive] = useMutation(UnarchiveMutation);
  const [actionError, setActionError] = useState<string | null>(null);
  const [, markRead] = useMutation(MarkReadMutation);
  // An open chat is read: new replies clear the sidebar's unread dot while you look at it.
  const unread = data?.chat?.hasUnread === true;
  useEffect(() => {
    if (unread) void markRead({ input: { chatId } });
  }, [unread, chatId, markRead]);

  if (error) return <p role="alert">{error.message}</p>;
  const chat = data?.chat;
  if (!chat) return <p className="empty">{fetching ? 'Loading…' : 'This chat does not exist or is not yours.'}</p>;

  const run = async (p: Promise<{ data?: Record<string, { __typename: string; error?: string } | undefined> }>) => {
    const result = Object.values((await p).data ?? {})[0];
    setActionError(result && 'error' in result && result.error ? result.error : null);
  };
  return (
    <article className="chat-view" data-testid="chat-view" data-chat-id={chat.id}>
      <header className="chat-header">
        <StatusIcon status={chat.status} />
        <h1>{chat.title}</h1>
        <span className="chat-status" data-testid="chat-status">{statusLabel(chat.status)}</span>
        <span className="model" title="model of the next turn">{chat.lastModelConfig.displayName}</span>
        {chat.archived
          ? <button onClick={() => run(unarchive({ input: { chatId: chat.id } }))}>Unarchive</button>
          : <button disabled={archiveState.fetching} onClick={() => run(archive({ input: { chatId: chat.id } }))}>Archive</button>}
      </header>
      {chat.lastError && <p className="error" role="alert">{chat.lastError}</p>}
      {actionError && <p className="error" role="alert">{actionError}</p>}
      {chat.diffStatus && <PrCard diff={chat.diffStatus} />}
      <Messages chatId={chat.id} />
      <Queue chat={chat} onResult={run} />
      <SendBox chat={chat} models={data.modelConfigs} onResult={run} />
    </article>
  );
}

/** The transcript, 25 messages a page, "Load earlier" going back by cursor. */
function Messages({ chatId }: { chatId: string }) {
  const [before, setBefore] = useState<string | null>(null);
  const [{ data, error, fetching }] = useQuery({ query: ChatMessagesQuery, variables: { id: chatId, before } });
  if (error) return <p role="alert">{error.message}</p>;
  const page = data?.chat?.messages;
  return (
    <>
      {page?.pageInfo.hasPreviousPage && (
        <button className="link" disabled={fetching} onClick={() => setBefore(page.pageInfo.startCursor ?? null)}>Load earlier messages</button>
      )}
      <Transcript messages={(page?.nodes ?? []).flatMap((m) => (m ? [m] : []))} />
      <PreviewMessage chatId={chatId} />
    </>
  );
}

function PrCard({ diff }: { diff: NonNullable<ChatSummary['diffStatus']> }) {
  const state = prState(diff);
  return (
    <section className={`pr-card pr-${state ?? 'none'}`} data-testid="pr-card">
      <div className="pr-title">
        {diff.url ? <a href={diff.url} target="_blank" rel="noreferrer">{diff.pullRequestTitle}</a> : diff.pullRequestTitle}
        {diff.prNumber != null && <span className="muted"> #{diff.prNumber}</span>}
      </div>
      <div className="pr-meta">
        {state && <span className={`pill pr-${state}`}>{state}</span>}
        {diff.headBranch && <code>{diff.headBranch}</code>}
        {diff.baseBranch && <span className="muted">→ <code>{diff.baseBranch}</code></span>}
        <span className="additions">+{diff.additions}</span>
        <span className="deletions">−{diff.deletions}</span>
        <span className="muted">{diff.changedFiles} files</span>
      </div>
    </section>
  );
}

type RunResult = (p: Promise<{ data?: Record<string, { __typename: string; error?: string } | undefined> }>) => Promise<void>;

function Queue({ chat, onResult }: { chat: ChatSummary; onResult: RunResult }) {
  const [, promote] = useMutation(PromoteQueuedMutation);
  const [, remove] = useMutation(DeleteQueuedMutation);
  if (chat.queuedMessages.length === 0) return null;
  return (
    <section className="queue" aria-label="Queued messages" data-testid="queue">
      <h2>Queued</h2>
      <ol>
        {chat.queuedMessages.map((q) => (
          <li key={q.id} data-testid="queued-message">
            <span className="queued-text">{q.parts.map((p) => ('text' in p ? p.text : '')).join(' ')}</span>
            <span className="model" data-testid="queued-model">{q.modelConfig?.displayName ?? 'default model'}</span>
            <button onClick={() => onResult(promote({ input: { chatId: chat.id, queuedMessageId: q.id } }))}>Send now</button>
            <button className="link" onClick={() => onResult(remove({ input: { chatId: chat.id, queuedMessageId: q.id } }))}>Delete</button>
          </li>
        ))}
      </ol>
    </section>
  );
}

function SendBox({ chat, models, onResult }: { chat: ChatSummary; models: Array<{ id: string; displayName: string }>; onResult: RunResult }) {
  const [text, setText] = useState('');
  const [modelId, setModelId] = useState('');
  const [state, send] = useMutation(SendMessageMutation);
  const busy = chat.status === 'PENDING' || chat.status === 'RUNNING' || chat.queuedMessages.length > 0;
  return (
    <form
      className="send-box"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!text.trim()) return;
        await onResult(send({ input: { chatId: chat.id, content: [{ type: 'TEXT', text }], ...(modelId ? { modelConfigId: modelId } : {}) } }));
        setText('');
      }}
    >
      <textarea aria-label="Message" value={text} onChange={(e) => setText(e.target.value)} placeholder={busy ? 'The chat is busy: your message will be queued' : 'Message'} disabled={chat.archived} />
      <select aria-label="Model for this turn" value={modelId} onChange={(e) => setModelId(e.target.value)}>
        <option value="">{chat.lastModelConfig.displayName} (chat's model)</option>
        {models.filter((m) => m.id !== chat.lastModelConfig.id).map((m) => <option key={m.id} value={m.id}>{m.displayName}</option>)}
      </select>
      <button type="submit" disabled={state.fetching || chat.archived}>{busy ? 'Queue' : 'Send'}</button>
    </form>
  );
}
