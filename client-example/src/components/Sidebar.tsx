import { useState } from 'react';
import { useQuery } from 'urql';
import { SidebarQuery } from '../documents.js';
import type { ChatListItem } from '../liveMerge.js';
import { PrIcon, StatusIcon } from './icons.js';

/** The viewer's chats, sub-agents under their root, archived ones behind a toggle; live via chatWatch. */
export function Sidebar({ selectedId }: { selectedId?: string }) {
  const [showArchived, setShowArchived] = useState(false);
  return (
    <aside className="sidebar">
      <ChatList archived={false} selectedId={selectedId} />
      <label className="toggle">
        <input type="checkbox" checked={showArchived} onChange={(e) => setShowArchived(e.target.checked)} /> Show archived
      </label>
      {showArchived && <ChatList archived selectedId={selectedId} />}
    </aside>
  );
}

function ChatList({ archived, selectedId }: { archived: boolean; selectedId?: string }) {
  const [after, setAfter] = useState<string | null>(null);
  const [{ data, fetching, error }] = useQuery({ query: SidebarQuery, variables: { archived, after } });
  const chats = data?.chats.nodes ?? [];
  return (
    <section aria-label={archived ? 'Archived chats' : 'Chats'} data-testid={archived ? 'archived-chats' : 'chats'}>
      {archived && <h2>Archived</h2>}
      {error && <p role="alert">{error.message}</p>}
      <ul className="chat-list">
        {chats.map((chat) => chat && (
          <li key={chat.id}>
            <ChatItem chat={chat} selected={chat.id === selectedId} />
            {chat.children.length > 0 && (
              <ul className="children">
                {chat.children.map((child) => <li key={child.id}><ChatItem chat={child} selected={child.id === selectedId} /></li>)}
              </ul>
            )}
          </li>
        ))}
      </ul>
      {!fetching && chats.length === 0 && <p className="empty">{archived ? 'No archived chats.' : 'No chats yet.'}</p>}
      {data?.chats.pageInfo.hasNextPage && (
        <button className="link" disabled={fetching} onClick={() => setAfter(data.chats.pageInfo.endCursor ?? null)}>Load more</button>
      )}
    </section>
  );
}

function ChatItem({ chat, selected }: { chat: ChatListItem; selected: boolean }) {
  const showPr = chat.diffStatus && (chat.status === 'WAITING' || chat.status === 'COMPLETED');
  return (
    <a href={`#/chat/${encodeURIComponent(chat.id)}`} className={`chat-item${selected ? ' selected' : ''}`} data-chat-id={chat.id} data-chat-status={chat.status}>
      <StatusIcon status={chat.status} />
      <span className="title">{chat.title}</span>
      {showPr && chat.diffStatus && <PrIcon diff={chat.diffStatus} />}
      {chat.queuedMessages.length > 0 && <span className="badge" title="queued messages">{chat.queuedMessages.length}</span>}
      {chat.hasUnread && <span className="unread" aria-label="unread" />}
    </a>
  );
}
