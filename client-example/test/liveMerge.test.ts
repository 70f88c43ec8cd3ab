import { makeResult, type Exchange, type Operation } from '@urql/core';
import type { Sink } from 'graphql-ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { delay, filter, fromValue, merge as mergeSources, mergeMap, pipe, share } from 'wonka';
import { createChatgraphClient, type ChatgraphClient } from '../src/client.js';
import { ChatEventsSubscription, ChatMessagesQuery, ChatViewQuery, ChatWatchSubscription, SidebarQuery } from '../src/documents.js';
import { freshnessOf, isOlder } from '../src/liveMerge.js';

// The live merge through a real urql client and graphcache. Only the transports are stand-ins:
// queries are answered from fixtures, and a scripted graphql-ws client delivers events and drops.

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, second)).toISOString();
/** A chat's freshness at step n: version n, updated n seconds in. */
const v = (n: number) => ({ version: String(n), updatedAt: at(n) });
const model = (id: string, displayName: string) => ({ __typename: 'ChatModelConfig', id, displayName });
const CLAUDE = model('m-claude', 'Claude');
const GPT = model('m-gpt', 'GPT');

function chat(id: string, fields: Record<string, unknown> = {}) {
  return {
    __typename: 'Chat', id, version: '0', title: `Chat ${id}`, status: 'WAITING', archived: false, lastError: null, updatedAt: at(0),
    lastTurnSummary: null, hasUnread: false, parent: null, lastModelConfig: CLAUDE, diffStatus: null, queuedMessages: [] as unknown[],
    children: [], ...fields,
  };
}
const queued = (id: string, text: string) => ({
  __typename: 'ChatQueuedMessage', id, createdAt: at(0), modelConfig: GPT, parts: [{ __typename: 'ChatTextPart', text }],
});
const message = (id: string, text: string) => ({
  __typename: 'ChatMessage', id, role: 'USER', createdAt: at(0), totalCostMicros: null, modelConfig: CLAUDE,
  parts: [{ __typename: 'ChatTextPart', text }],
});
const diff = (state: string, draft: boolean) => ({
  __typename: 'ChatDiffStatus', url: 'https://git.example.com/pr/7', prNumber: 7, pullRequestState: state, pullRequestDraft: draft,
  pullRequestTitle: 'Fix it', headBranch: 'fix', baseBranch: 'main', additions: 10, deletions: 2, changedFiles: 1,
});
/** An event about the change that made `snapshot.version` (unless `version` says otherwise). */
const watchEvent = (cursor: string, kind: string, snapshot: ReturnType<typeof chat>, version = snapshot.version) => ({
  data: { chatWatch: { __typename: 'ChatWatchEvent', cursor, kind, version, occurredAt: snapshot.updatedAt, chat: snapshot } },
});
/** A chatEvents event; its chat snapshot is what ChatStateFields selects (no queue, no children). */
const streamEvent = (cursor: string, kind: string, snapshot: ReturnType<typeof chat>, extra: Record<string, unknown> = {}) => {
  const { queuedMessages: _queue, children: _children, ...state } = snapshot;
  return {
    data: {
      chatEvents: {
        __typename: 'ChatStreamEvent', cursor, kind, version: snapshot.version, occurredAt: snapshot.updatedAt, chat: state, message: null, queueChange: null,
        child: null, attempt: null, seq: null, parts: null,
        ...extra,
      },
    },
  };
};
/** A QUEUE_UPDATE in the small form: what the change added, updated and removed, and the length after it. */
const queueUpdate = (
  cursor: string, snapshot: ReturnType<typeof chat>,
  change: { added?: Array<ReturnType<typeof queued>>; updated?: Array<ReturnType<typeof queued>>; removedIds?: string[]; length: number },
) => streamEvent(cursor, 'QUEUE_UPDATE', snapshot, {
  queueChange: { __typename: 'ChatQueueChange', added: change.added ?? [], updated: change.updated ?? [], removedIds: change.removedIds ?? [], length: change.length },
});

/** A scripted graphql-ws client: each subscribe is recorded; the test pushes results or drops it. */
class ScriptedSocket {
  readonly subscriptions: Array<{ variables: Record<string, unknown>; sink: Sink; open: boolean }> = [];
  subscribe(payload: { variables?: Record<string, unknown> | null }, sink: Sink) {
    const entry = { variables: { ...payload.variables }, sink, open: true };
    this.subscriptions.push(entry);
    return () => void (entry.open = false);
  }
  dispose() {}
  get current() {
    const open = this.subscriptions.filter((s) => s.open);
    return open[open.length - 1]!;
  }
  push(result: unknown) {
    this.current.sink.next(result as never);
  }
  /** The socket closes: graphql-ws (without its own retries) errors every subscription. */
  drop() {
    const entry = this.current;
    entry.open = false;
    entry.sink.error(new Error('socket closed'));
  }
}

const operationName = (op: Operation) => {
  const definition = op.query.definitions[0];
  return definition?.kind === 'OperationDefinition' ? definition.name?.value : undefined;
};

/**
 * Answers queries and mutations from `answer`, `latency.ms` later if set (a real network always
 * answers after the request is dispatched); subscriptions go on to the socket.
 */
function fixtureServer(answer: (operation: Operation) => Record<string, unknown>, latency: { ms: number }): Exchange {
  return ({ forward }) => (operations$) => {
    const shared = pipe(operations$, share);
    const answerOf = (op: Operation) => {
      const result = fromValue(makeResult(op, { data: answer(op) }));
      return latency.ms > 0 ? pipe(result, delay(latency.ms)) : result;
    };
    return mergeSources([
      pipe(shared, filter((op) => op.kind === 'query' || op.kind === 'mutation'), mergeMap(answerOf)),
      forward(pipe(shared, filter((op) => op.kind !== 'query' && op.kind !== 'mutation'))),
    ]);
  };
}

// Reads must not go to the fixture server again: it would answer with the original rows.
const CACHE_ONLY = { requestPolicy: 'cache-only' } as const;

let live: ChatgraphClient | undefined;
afterEach(() => live?.dispose());

/** A client whose sidebar (`archived: false`, and `archived: true` if given) is loaded. */
async function openDashboard(chats: Array<ReturnType<typeof chat>>, archivedChats?: Array<ReturnType<typeof chat>>, secondPage?: Array<ReturnType<typeof chat>>) {
  const socket = new ScriptedSocket();
  const onCursorExpired = vi.fn();
  /** How many times the fixture server answered each operation (a refetch counts). */
  const requests: Record<string, number> = {};
  /** The fixture server's answer time: 0 (answered inside the dispatch) until a test sets it. */
  const latency = { ms: 0 };
  live = createChatgraphClient({
    url: 'http://gateway.test/graphql',
    token: 't',
    ws: socket,
    retryDelayMs: 1,
    onCursorExpired,
    http: fixtureServer((op): Record<string, unknown> => {
      const vars = op.variables as { archived?: boolean; id?: string; after?: string | null };
      const name = operationName(op) ?? '?';
      requests[name] = (requests[name] ?? 0) + 1;
      if (operationName(op) === 'Sidebar') {
        const onSecond = vars.after === 'page-2';
        const list = vars.archived ? archivedChats ?? [] : onSecond ? secondPage ?? [] : chats;
        const pageInfo = { __typename: 'PageInfo', hasNextPage: !onSecond && !vars.archived && !!secondPage, endCursor: secondPage && !onSecond ? 'page-2' : null };
        return { chats: { __typename: 'ChatConnection', pageInfo, nodes: list } };
      }
      const found = chats.find((c) => c.id === vars.id)!;
      if (operationName(op) === 'ChatMessages') {
        const pageInfo = { __typename: 'PageInfo', hasPreviousPage: false, startCursor: null };
        return { chat: { __typename: 'Chat', id: found.id, messages: { __typename: 'ChatMessageConnection', pageInfo, nodes: [message('msg-1', 'hello')] } } };
      }
      return { chat: found, modelConfigs: [] };
    }, latency),
  });
  const { client } = live;
  await client.query(SidebarQuery, { archived: false }).toPromise();
  if (archivedChats) await client.query(SidebarQuery, { archived: true }).toPromise();
  const sidebar = (archived = false) => client.readQuery(SidebarQuery, { archived }, CACHE_ONLY)?.data?.chats.nodes ?? [];
  const subscribe = async (start: () => void) => {
    const before = socket.subscriptions.length;
    start();
    await vi.waitFor(() => expect(socket.subscriptions.length).toBe(before + 1));
  };
  const watch = () => subscribe(() => client.subscription(ChatWatchSubscription, {}).subscribe(() => {}));
  return { client, socket, sidebar, watch, subscribe, onCursorExpired, requests, latency, merge: live.merge };
}

describe('chatWatch events, by kind', () => {
  it('a status event changes the status and nothing else, even when its snapshot holds newer fields', async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('a')]);
    await watch();
    socket.push(watchEvent('c1', 'STATUS_CHANGE', chat('a', { status: 'RUNNING', title: 'Renamed meanwhile', ...v(1) })));
    expect(sidebar()[0]).toMatchObject({ id: 'a', status: 'RUNNING', title: 'Chat a' });
  });

  it('ACTION_REQUIRED is a status change', async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('a', { status: 'RUNNING' })]);
    await watch();
    socket.push(watchEvent('c1', 'ACTION_REQUIRED', chat('a', { status: 'REQUIRES_ACTION', ...v(1) })));
    expect(sidebar()[0]?.status).toBe('REQUIRES_ACTION');
  });

  it('a diff event changes the PR card, a model event the model, a title event the title, a queue event the queue', async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('a')]);
    await watch();
    socket.push(watchEvent('c1', 'DIFF_STATUS_CHANGE', chat('a', { diffStatus: diff('OPEN', true), status: 'ERROR', ...v(1) })));
    expect(sidebar()[0]).toMatchObject({ diffStatus: { pullRequestState: 'OPEN', pullRequestDraft: true }, status: 'WAITING' });
    socket.push(watchEvent('c2', 'MODEL_CONFIG_CHANGE', chat('a', { lastModelConfig: GPT, diffStatus: diff('MERGED', false), ...v(2) })));
    expect(sidebar()[0]).toMatchObject({ lastModelConfig: { displayName: 'GPT' }, diffStatus: { pullRequestState: 'OPEN' } });
    socket.push(watchEvent('c3', 'TITLE_CHANGE', chat('a', { title: 'Renamed', ...v(3) })));
    expect(sidebar()[0]).toMatchObject({ title: 'Renamed', lastModelConfig: { displayName: 'GPT' } });
    socket.push(watchEvent('c4', 'QUEUE_CHANGE', chat('a', { queuedMessages: [queued('q1', 'next')], ...v(4) })));
    expect(sidebar()[0]?.queuedMessages.map((q) => q.id)).toEqual(['q1']);
  });
});

describe('the stale guard', () => {
  it('ignores an older event that arrives after a newer one', async () => {
    const { sidebar, socket, watch, merge } = await openDashboard([chat('a')]);
    await watch();
    socket.push(watchEvent('c2', 'STATUS_CHANGE', chat('a', { status: 'RUNNING', ...v(2) })));
    socket.push(watchEvent('c1', 'STATUS_CHANGE', chat('a', { status: 'PENDING', ...v(1) })));
    expect(sidebar()[0]).toMatchObject({ status: 'RUNNING', ...v(2) });
    expect(merge.cursor('chatWatch')).toBe('c1');
  });

  it('an event older than the page it lands on changes nothing', async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('a', { status: 'WAITING', ...v(5) })]);
    await watch();
    socket.push(watchEvent('c1', 'DELETED', chat('a', { archived: true, ...v(4) })));
    expect(sidebar().map((c) => c?.id)).toEqual(['a']);
  });

  it("judges an event by its own version, not by its snapshot's (the snapshot is loaded later)", async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('a')]);
    await watch();
    // The status changed at version 5; by delivery the chat was renamed (6) and queued (7).
    const later = chat('a', { status: 'RUNNING', title: 'Renamed', queuedMessages: [queued('q1', 'x')], ...v(7) });
    socket.push(watchEvent('c5', 'STATUS_CHANGE', later, '5'));
    expect(sidebar()[0]).toMatchObject({ status: 'RUNNING', title: 'Chat a', queuedMessages: [] });
    socket.push(watchEvent('c6', 'TITLE_CHANGE', later, '6'));
    socket.push(watchEvent('c7', 'QUEUE_CHANGE', later, '7'));
    expect(sidebar()[0]).toMatchObject({ title: 'Renamed', queuedMessages: [{ id: 'q1' }], version: '7' });
  });

  it('orders two changes in one millisecond by version', async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('a')]);
    await watch();
    socket.push(watchEvent('c2', 'STATUS_CHANGE', chat('a', { status: 'RUNNING', version: '2', updatedAt: at(1) })));
    socket.push(watchEvent('c1', 'STATUS_CHANGE', chat('a', { status: 'PENDING', version: '1', updatedAt: at(1) })));
    expect(sidebar()[0]?.status).toBe('RUNNING');
  });

  it('compares versions once the chat carries one, whatever updatedAt says', () => {
    const fresh = freshnessOf({ ...v(1), version: 7 })!;
    const older = freshnessOf({ ...v(9), version: '6' })!;
    expect(isOlder(older, fresh)).toBe(true);
    expect(isOlder(fresh, older)).toBe(false);
    expect(isOlder(freshnessOf({ ...v(1) })!, freshnessOf({ ...v(2) })!)).toBe(true);
  });
});

describe('reconnect with replay', () => {
  it('subscribes again with after: the last cursor and applies what the server replays exactly once', async () => {
    const { sidebar, socket, watch, merge } = await openDashboard([chat('a')]);
    await watch();
    expect(socket.current.variables.after).toBeUndefined();
    socket.push(watchEvent('c1', 'STATUS_CHANGE', chat('a', { status: 'PENDING', ...v(1) })));
    socket.push(watchEvent('c2', 'STATUS_CHANGE', chat('a', { status: 'RUNNING', ...v(2) })));
    socket.drop();
    await vi.waitFor(() => expect(socket.subscriptions).toHaveLength(2));
    expect(socket.current.variables.after).toBe('c2');
    // The replay overlaps by one event (c2), then brings what happened while we were away.
    socket.push(watchEvent('c2', 'STATUS_CHANGE', chat('a', { status: 'RUNNING', ...v(2) })));
    socket.push(watchEvent('c3', 'STATUS_CHANGE', chat('a', { status: 'WAITING', ...v(3) })));
    socket.push(watchEvent('c4', 'CREATED', chat('b', { ...v(4) })));
    expect(sidebar().map((c) => [c?.id, c?.status])).toEqual([['b', 'WAITING'], ['a', 'WAITING']]);
    expect(merge.accept('chatWatch', { cursor: 'c3', kind: 'STATUS_CHANGE', chat: chat('a', { ...v(3) }) as never })).toBe('duplicate');
  });

  it('a resumable server error (overflow) resubscribes from the cursor; an expired cursor refetches and starts afresh', async () => {
    const { socket, watch, onCursorExpired } = await openDashboard([chat('a')]);
    await watch();
    socket.push(watchEvent('c1', 'STATUS_CHANGE', chat('a', { status: 'PENDING', ...v(1) })));
    socket.current.sink.next({ data: null, errors: [{ message: 'behind', extensions: { code: 'SUBSCRIPTION_OVERFLOW' } }] } as never);
    socket.current.sink.complete();
    await vi.waitFor(() => expect(socket.subscriptions).toHaveLength(2));
    expect(socket.current.variables.after).toBe('c1');
    socket.current.sink.next({ data: null, errors: [{ message: 'pruned', extensions: { code: 'CURSOR_EXPIRED' } }] } as never);
    socket.current.sink.complete();
    await vi.waitFor(() => expect(socket.subscriptions).toHaveLength(3));
    expect(socket.current.variables.after).toBeUndefined();
    expect(onCursorExpired).toHaveBeenCalledWith('chatWatch');
  });
});

describe('chats created and archived while the page is open', () => {
  it('CREATED puts a new chat first, DELETED takes it out, an unarchive (CREATED) brings it back', async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('a')], []);
    await watch();
    socket.push(watchEvent('c1', 'CREATED', chat('new', { status: 'PENDING', ...v(1) })));
    expect(sidebar().map((c) => c?.id)).toEqual(['new', 'a']);
    socket.push(watchEvent('c2', 'DELETED', chat('new', { archived: true, status: 'WAITING', ...v(2) })));
    expect(sidebar().map((c) => c?.id)).toEqual(['a']);
    expect(sidebar(true).map((c) => [c?.id, c?.archived])).toEqual([['new', true]]);
    socket.push(watchEvent('c3', 'CREATED', chat('new', { archived: false, ...v(3) })));
    expect(sidebar().map((c) => c?.id)).toEqual(['new', 'a']);
    expect(sidebar(true)).toEqual([]);
  });

  it('with a second page loaded ("load more"), a new chat goes first and an archived one leaves the page that holds it', async () => {
    const { client, sidebar, socket, watch } = await openDashboard([chat('a')], undefined, [chat('b')]);
    expect(sidebar().map((c) => c?.id)).toEqual(['a']);
    await client.query(SidebarQuery, { archived: false, after: 'page-2' }).toPromise();
    expect(sidebar().map((c) => c?.id)).toEqual(['a', 'b']);
    await watch();
    socket.push(watchEvent('c1', 'CREATED', chat('new', v(1))));
    socket.push(watchEvent('c2', 'DELETED', chat('b', { archived: true, ...v(2) })));
    expect(sidebar().map((c) => c?.id)).toEqual(['new', 'a']);
  });

  it('a sub-agent created while the page is open appears under its root', async () => {
    const { sidebar, socket, watch } = await openDashboard([chat('root')]);
    await watch();
    socket.push(watchEvent('c1', 'CREATED', chat('child', { parent: { __typename: 'Chat', id: 'root' }, ...v(1) })));
    expect(sidebar().map((c) => [c?.id, c?.children.map((k) => k.id)])).toEqual([['root', ['child']]]);
  });
});

describe('chatEvents, inside one chat', () => {
  async function openChat(fields: Record<string, unknown> = {}) {
    const fixture = chat('a', { status: 'RUNNING', ...v(5), ...fields });
    const dashboard = await openDashboard([fixture]);
    await dashboard.client.query(ChatViewQuery, { id: 'a' }).toPromise();
    await dashboard.client.query(ChatMessagesQuery, { id: 'a', before: null }).toPromise();
    await dashboard.subscribe(() => dashboard.client.subscription(ChatEventsSubscription, { chatId: 'a' }).subscribe(() => {}));
    const view = () => {
      const chat = dashboard.client.readQuery(ChatViewQuery, { id: 'a' }, CACHE_ONLY)?.data?.chat;
      const messages = dashboard.client.readQuery(ChatMessagesQuery, { id: 'a', before: null }, CACHE_ONLY)?.data?.chat?.messages;
      return chat && messages ? { ...chat, messages } : undefined;
    };
    const queue = () => view()?.queuedMessages.map((q) => [q.id, q.parts.map((p) => ('text' in p ? p.text : '')).join('')]);
    return { ...dashboard, fixture, view, queue };
  }

  it('MESSAGE appends to the transcript once, even beside an older chat snapshot; QUEUE_UPDATE adds to the queue; STATUS the status', async () => {
    const { socket, view, queue } = await openChat();
    socket.push(queueUpdate('e1', chat('a', v(6)), { added: [queued('q1', 'later')], length: 1 }));
    expect(queue()).toEqual([['q1', 'later']]);
    socket.push(streamEvent('e2', 'MESSAGE', chat('a', { ...v(4) }), { message: message('msg-2', 'reply') }));
    socket.push(streamEvent('e2', 'MESSAGE', chat('a', { ...v(4) }), { message: message('msg-2', 'reply') }));
    expect(view()?.messages.nodes.map((m) => m?.id)).toEqual(['msg-1', 'msg-2']);
    expect(queue()).toEqual([['q1', 'later']]);
    socket.push(streamEvent('e3', 'STATUS', chat('a', { status: 'PENDING', ...v(7) })));
    expect(view()).toMatchObject({ status: 'PENDING', version: '7' });
    expect(queue()).toEqual([['q1', 'later']]);
  });

  it('DIFF_STATUS, MODEL_CONFIG, TITLE and ARCHIVED each change their own fields', async () => {
    const { socket, view, sidebar } = await openChat();
    const snapshot = chat('a', { diffStatus: diff('MERGED', false), lastModelConfig: GPT, title: 'New title', archived: true, status: 'WAITING', ...v(9) });
    socket.push(streamEvent('e1', 'DIFF_STATUS', { ...snapshot, ...v(6) }));
    expect(view()).toMatchObject({ diffStatus: { pullRequestState: 'MERGED', pullRequestTitle: 'Fix it' }, lastModelConfig: { displayName: 'Claude' }, title: 'Chat a' });
    socket.push(streamEvent('e2', 'MODEL_CONFIG', { ...snapshot, ...v(7) }));
    expect(view()).toMatchObject({ lastModelConfig: { displayName: 'GPT' }, title: 'Chat a', archived: false });
    socket.push(streamEvent('e3', 'TITLE', { ...snapshot, ...v(8) }));
    expect(view()).toMatchObject({ title: 'New title', archived: false, status: 'RUNNING' });
    socket.push(streamEvent('e4', 'ARCHIVED', snapshot));
    expect(view()).toMatchObject({ archived: true, status: 'WAITING' });
    expect(sidebar()).toEqual([]);
  });

  it('MESSAGE_PART builds the preview outside the cache (parts share the last stored cursor); the stored reply supersedes it', async () => {
    const { socket, view, merge } = await openChat();
    const part = (seq: number, text: string) => streamEvent('e0', 'MESSAGE_PART', chat('a', v(5)), { attempt: 1, seq, parts: [{ __typename: 'ChatMessagePartDelta', type: 'TEXT', text }] });
    socket.push(part(0, 'Work'));
    socket.push(part(1, 'ing on it'));
    expect(merge.previews.get('a')).toMatchObject({ attempt: 1, text: 'Working on it' });
    expect(view()?.messages.nodes.map((m) => m?.id)).toEqual(['msg-1']);
    socket.push(streamEvent('e1', 'MESSAGE', chat('a', v(5)), { message: { ...message('msg-2', 'Working on it'), role: 'ASSISTANT' } }));
    expect(merge.previews.get('a')).toBeUndefined();
    expect(view()?.messages.nodes.map((m) => m?.id)).toEqual(['msg-1', 'msg-2']);
    socket.push(part(0, 'Second try'));
    socket.push(streamEvent('e1', 'PREVIEW_RESET', chat('a', v(5)), { attempt: 2 }));
    expect(merge.previews.get('a')).toBeUndefined();
  });

  it("CHILD_UPDATE changes the sub-agent under its parent (guarded by the child's version), never the parent", async () => {
    const { socket, view, sidebar } = await openChat();
    const parent = chat('a', { title: 'Parent renamed meanwhile', ...v(9) });
    const child = (fields: Record<string, unknown>) => ({ ...chat('kid', { parent: { __typename: 'Chat', id: 'a' }, ...fields }), children: undefined });
    socket.push(streamEvent('e1', 'CHILD_UPDATE', parent, { child: child({ status: 'RUNNING', ...v(3) }), version: '3' }));
    expect(sidebar()[0]?.children.map((k) => [k.id, k.status])).toEqual([['kid', 'RUNNING']]);
    socket.push(streamEvent('e2', 'CHILD_UPDATE', parent, { child: child({ status: 'PENDING', ...v(2) }), version: '2' }));
    expect(sidebar()[0]?.children.map((k) => k.status)).toEqual(['RUNNING']);
    expect(view()).toMatchObject({ title: 'Chat a', version: '5' });
  });

  describe('QUEUE_UPDATE, the small form (queueChange)', () => {
    it('appends what it added, oldest first, once: a replay or a second copy of the change adds nothing', async () => {
      const { socket, queue, view, requests } = await openChat({ queuedMessages: [queued('q1', 'first')] });
      socket.push(queueUpdate('e1', chat('a', v(6)), { added: [queued('q2', 'second'), queued('q3', 'third')], length: 3 }));
      expect(queue()).toEqual([['q1', 'first'], ['q2', 'second'], ['q3', 'third']]);
      expect(view()?.version).toBe('6');
      // The same event replayed after a reconnect (same cursor): dropped as a duplicate.
      socket.push(queueUpdate('e1', chat('a', v(6)), { added: [queued('q2', 'second'), queued('q3', 'third')], length: 3 }));
      // The change seen twice under another cursor (say the send mutation's answer came first): already held.
      socket.push(queueUpdate('e2', chat('a', v(6)), { added: [queued('q3', 'third')], length: 3 }));
      expect(queue()).toEqual([['q1', 'first'], ['q2', 'second'], ['q3', 'third']]);
      expect(requests.ChatView).toBe(1);
    });

    it('drops what it removed and rewrites what it updated, in place (the sidebar shares the queue)', async () => {
      const { socket, queue, sidebar, requests } = await openChat({ queuedMessages: [queued('q1', 'first'), queued('q2', 'second'), queued('q3', 'third')] });
      socket.push(queueUpdate('e1', chat('a', v(6)), { removedIds: ['q1'], length: 2 }));
      expect(queue()).toEqual([['q2', 'second'], ['q3', 'third']]);
      socket.push(queueUpdate('e2', chat('a', v(7)), { updated: [queued('q3', 'third, edited')], length: 2 }));
      expect(queue()).toEqual([['q2', 'second'], ['q3', 'third, edited']]);
      // Removed and added in one change (a promote that queued the next one, say).
      socket.push(queueUpdate('e3', chat('a', v(8)), { removedIds: ['q2', 'gone-already'], added: [queued('q4', 'fourth')], length: 2 }));
      expect(queue()).toEqual([['q3', 'third, edited'], ['q4', 'fourth']]);
      expect(sidebar()[0]?.queuedMessages.map((q) => q.id)).toEqual(['q3', 'q4']);
      expect(requests.ChatView).toBe(1);
    });

    it('a length that disagrees with the queue it leaves invalidates the queue: the open chat view and sidebar refetch it', async () => {
      const { client, socket, queue, sidebar, fixture, requests, latency } = await openChat({ queuedMessages: [queued('q1', 'first')] });
      latency.ms = 5;
      const views: Array<{ stale: boolean; queue?: string[] }> = [];
      const open = [
        client.query(ChatViewQuery, { id: 'a' }).subscribe((r) => views.push({ stale: r.stale, queue: r.data?.chat?.queuedMessages.map((q) => q.id) })),
        client.query(SidebarQuery, { archived: false }).subscribe(() => {}),
      ];
      // cache-and-network: each opened query's own first load.
      await vi.waitFor(() => expect(requests).toMatchObject({ ChatView: 2, Sidebar: 2 }));
      await vi.waitFor(() => expect(views.at(-1)).toEqual({ stale: false, queue: ['q1'] }));
      // A change this client missed queued q2; this one queues q3 and says the queue is 3 long.
      fixture.queuedMessages = [queued('q1', 'first'), queued('q2', 'missed'), queued('q3', 'third')];
      socket.push(queueUpdate('e1', chat('a', v(7)), { added: [queued('q3', 'third')], length: 3 }));
      await vi.waitFor(() => expect(requests).toMatchObject({ ChatView: 3, Sidebar: 3 }));
      await vi.waitFor(() => expect(views.at(-1)).toEqual({ stale: false, queue: ['q1', 'q2', 'q3'] }));
      expect(queue()).toEqual([['q1', 'first'], ['q2', 'missed'], ['q3', 'third']]);
      expect(sidebar()[0]?.queuedMessages.map((q) => q.id)).toEqual(['q1', 'q2', 'q3']);
      // Until the refetch answers, the query has no chat (its queue is a required field): the
      // chat view keeps showing the chat it had meanwhile (ChatView.tsx).
      expect(views).toContainEqual({ stale: true, queue: undefined });
      open.forEach((o) => o.unsubscribe());
    });

    it('a stale QUEUE_UPDATE (older than the chat the client holds) changes nothing', async () => {
      const { socket, queue, view, requests } = await openChat({ queuedMessages: [queued('q1', 'first')] });
      socket.push(queueUpdate('e1', chat('a', v(4)), { added: [queued('q0', 'older')], removedIds: ['q1'], updated: [], length: 1 }));
      socket.push(queueUpdate('e2', chat('a', v(3)), { updated: [queued('q1', 'older edit')], length: 5 }));
      expect(queue()).toEqual([['q1', 'first']]);
      expect(view()?.version).toBe('5');
      expect(requests.ChatView).toBe(1);
    });
  });

  it('MESSAGE_DELETED takes the message out of the transcript', async () => {
    const { socket, view } = await openChat();
    socket.push(streamEvent('e1', 'MESSAGE_DELETED', chat('a', { ...v(6) }), { message: message('msg-1', 'hello') }));
    expect(view()?.messages.nodes).toEqual([]);
  });
});
