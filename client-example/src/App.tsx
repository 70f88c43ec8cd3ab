import { useEffect, useState } from 'react';
import { Provider, useQuery, useSubscription } from 'urql';
import { createChatgraphClient, createGatewaySocket, type ChatgraphClient } from './client.js';
import { ChatView } from './components/ChatView.js';
import { CostView } from './components/CostView.js';
import { Sidebar } from './components/Sidebar.js';
import { SignIn } from './components/SignIn.js';
import { ChatWatchSubscription, ViewerQuery } from './documents.js';
import { LiveMergeContext } from './livePreview.js';

const TOKEN_KEY = 'chatgraph.token';
const GATEWAY = `${window.location.origin}/graphql`;

type Route = { view: 'chat'; chatId?: string } | { view: 'costs' };

function parseRoute(hash: string): Route {
  const [, view, id] = hash.replace(/^#/, '').split('/');
  if (view === 'costs') return { view: 'costs' };
  return { view: 'chat', chatId: view === 'chat' && id ? decodeURIComponent(id) : undefined };
}

function useRoute(): Route {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

/** The dashboard: sign-in, then one urql client (graphcache + live merge) for the session. */
export function App() {
  const [token, setToken] = useState(() => window.localStorage.getItem(TOKEN_KEY) ?? '');
  const [online, setOnline] = useState<boolean | null>(null);
  const [session, setSession] = useState<ChatgraphClient | null>(null);
  // One client (cache, live merge, socket) per token, disposed when the token changes or the
  // page unmounts (StrictMode's extra mount included).
  useEffect(() => {
    if (!token) return setSession(null);
    const ws = createGatewaySocket(GATEWAY, token, { on: { connected: () => setOnline(true), closed: () => setOnline(false) } });
    const created = createChatgraphClient({ url: GATEWAY, token, ws, onCursorExpired: () => window.location.reload() });
    setSession(created);
    return () => created.dispose();
  }, [token]);

  if (!token) {
    return <SignIn defaultToken={import.meta.env.VITE_DEMO_TOKEN ?? ''} onSignIn={(t) => { window.localStorage.setItem(TOKEN_KEY, t); setToken(t); }} />;
  }
  const signOut = () => {
    window.localStorage.removeItem(TOKEN_KEY);
    setToken('');
  };
  if (!session) return null;
  return (
    <Provider value={session.client}>
      <LiveMergeContext.Provider value={session.merge}>
        <Shell online={online} onSignOut={signOut} />
      </LiveMergeContext.Provider>
    </Provider>
  );
}

function Shell({ online, onSignOut }: { online: boolean | null; onSignOut: () => void }) {
  const route = useRoute();
  const [viewer] = useQuery({ query: ViewerQuery });
  // One live subscription for the whole page: the chat list follows every change of every chat.
  useSubscription({ query: ChatWatchSubscription, variables: {} });

  if (viewer.error) {
    return (
      <div className="signin">
        <p role="alert">Could not sign in: {viewer.error.message}</p>
        <button onClick={onSignOut}>Use another token</button>
      </div>
    );
  }
  return (
    <div className="layout">
      <header className="topbar">
        <strong>chatgraph</strong>
        <nav>
          <a href="#/" className={route.view === 'chat' ? 'active' : ''}>Chats</a>
          <a href="#/costs" className={route.view === 'costs' ? 'active' : ''}>Costs</a>
        </nav>
        <span className={`live ${online ? 'on' : 'off'}`} data-testid="connection">{online ? 'live' : online === false ? 'reconnecting…' : 'connecting…'}</span>
        <span className="viewer">{viewer.data?.viewer.name ?? viewer.data?.viewer.username}</span>
        <button className="link" onClick={onSignOut}>Sign out</button>
      </header>
      <Sidebar selectedId={route.view === 'chat' ? route.chatId : undefined} />
      <main className="content">
        {route.view === 'costs' ? <CostView /> : route.chatId ? <ChatView key={route.chatId} chatId={route.chatId} /> : <p className="empty">Pick a chat on the left.</p>}
      </main>
    </div>
  );
}
