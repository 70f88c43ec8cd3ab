import { hostname } from 'node:os';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { logger } from './logger.js';

/**
 * `chatgraph start --demo`: a toy chat worker that drives chats through runs so the live
 * stream moves. It is a plain GraphQL client of the server it runs beside, so it doubles as a
 * runnable example of docs/worker-protocol.md:
 * - the worker side talks over one graphql-ws connection (mutations too, no HTTP per call);
 * - answers are streamed word by word with publishChatMessageParts before the final message;
 * - sometimes it spawns a sub-agent (createChildChat), runs it like any chat, and the parent
 *   waits for it with the chatsSettled subscription;
 * - sometimes it asks for a tool result (REQUIRES_ACTION with a pending tool call);
 * - when nothing is pending it plays the user (alice's token, over HTTP): answers pending tool
 *   calls with submitToolResults and nudges idle chats with a follow-up.
 */
export interface DemoWorkerOptions {
  url: string;
  workerToken: string;
  userToken: string;
  /** Pause between steps; the demo is meant to be watched. */
  stepMs?: number;
  /** Pauses between streamed batches (default 120–240 ms). */
  partMs?: number;
  /** Source of the demo's choices (tests pass a fixed sequence). */
  random?: () => number;
}

const REPLIES = [
  'I read the failing test and reproduced it locally.',
  'The fix is a two-line change in the session middleware; tests pass now.',
  'I opened a pull request with the change and a regression test.',
  'Refactored the module into smaller files; behaviour is unchanged.',
];
const SUB_TASKS = ['Check the flaky integration test on CI', 'Summarise the open review comments', 'Look for other callers of the session API'];
const USER_FOLLOW_UPS = ['Looks good, continue.', 'Can you add a test for that?', 'Please also update the docs.'];
/** Runs open at once: a parent waiting for its sub-agent must not block the sub-agent's run. */
const MAX_RUNS = 3;

async function gql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: Array<{ message: string }> };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data as T;
}

/** One operation over graphql-ws: resolves with its data (mutations and queries). */
function wsRequest<T>(client: Client, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    let data: T | undefined;
    client.subscribe<T>({ query, variables }, {
      next: (r) => (r.errors?.length ? reject(new Error(r.errors.map((e) => e.message).join('; '))) : (data = r.data as T)),
      error: reject,
      complete: () => resolve(data as T),
    });
  });
}

/** Waits until every chat in `chatIds` is settled, through the chatsSettled subscription (no polling). */
function waitSettled(client: Client, chatIds: string[]): Promise<Array<{ id: string; status: string }>> {
  return new Promise((resolve, reject) => {
    const settled: Array<{ id: string; status: string }> = [];
    client.subscribe<{ chatsSettled: { chat: { id: string; status: string } } }>(
      { query: 'subscription ($ids: [ID!]!) { chatsSettled(chatIds: $ids) { remaining chat { id status } } }', variables: { ids: chatIds } },
      { next: (r) => r.data && settled.push(r.data.chatsSettled.chat), error: reject, complete: () => resolve(settled) },
    );
  });
}


interface Acquired {
  id: string;
  title: string;
  parent: { id: string } | null;
  messages: { nodes: Array<{ role: string; parts: Array<{ __typename: string; text?: string }> }> };
}

/** Starts the loop; the returned function stops it and waits for the runs in progress. */
export function startDemoWorker(options: DemoWorkerOptions): () => Promise<void> {
  const workerId = `demo-${hostname()}-${process.pid}`;
  const stepMs = options.stepMs ?? 2500;
  const random = options.random ?? Math.random;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const ws = createClient({
    url: options.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authToken: options.workerToken },
    retryAttempts: Infinity,
    shouldRetry: () => true,
  });
  let stopped = false;
  const runs = new Set<Promise<void>>();
  let wake: (() => void) | undefined;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const worker = <T>(query: string, variables: Record<string, unknown>) => wsRequest<T>(ws, query, variables);

  /** Streams `text` word by word (MESSAGE_PART), then appends it as the final message. */
  async function say(chatId: string, attempt: number, text: string, extraParts: unknown[] = []): Promise<void> {
    const words = text.split(/(?<= )/);
    for (let seq = 0, i = 0; i < words.length; seq++, i += 2) {
      const r = await worker<{ publishChatMessageParts: { __typename: string; retryAfterMs?: number } }>(
        `mutation ($i: PublishChatMessagePartsInput!) { publishChatMessageParts(input: $i) { __typename ... on RateLimitedError { retryAfterMs } } }`,
        { i: { chatId, workerId, attempt, seq, parts: [{ type: 'text', text: words.slice(i, i + 2).join('') }] } },
      );
      if (r.publishChatMessageParts.__typename === 'RateLimitedError') {
        await pause(r.publishChatMessageParts.retryAfterMs ?? 100);
        seq--; // the same batch again
        i -= 2;
        continue;
      }
      if (r.publishChatMessageParts.__typename !== 'PublishChatMessagePartsPayload') throw new Error(`publish: ${r.publishChatMessageParts.__typename}`);
      await pause(options.partMs ?? 120 + Math.random() * 120);
    }
    const input = 800 + Math.floor(Math.random() * 4000);
    const output = 100 + Math.floor(Math.random() * 600);
    await worker(`mutation ($i: AppendChatMessagesInput!) { appendChatMessages(input: $i) { __typename } }`, {
      i: {
        chatId,
        workerId,
        messages: [{
          role: 'ASSISTANT',
          parts: [{ type: 'text', text }, ...extraParts],
          usage: { inputTokens: String(input), outputTokens: String(output), totalTokens: String(input + output), cacheReadTokens: String(input * 2) },
          runtimeMs: String(1000 + Math.floor(Math.random() * 5000)),
        }],
      },
    });
  }

  const finish = (chatId: string, status: string) =>
    worker(`mutation ($c: ID!, $w: String!, $s: ChatStatus!) { finishChatRun(input: { chatId: $c, workerId: $w, status: $s }) { __typename } }`, { c: chatId, w: workerId, s: status });

  async function run(chat: Acquired): Promise<void> {
    await pause(stepMs / 2);
    const last = chat.messages.nodes.at(-1);
    if (last?.role === 'TOOL') {
      await say(chat.id, 1, 'Thanks for confirming. Deploying to staging now; I will report back when it is done.');
      return void (await finish(chat.id, 'WAITING'));
    }
    const roll = random();
    if (!chat.parent && roll < 0.25) {
      // A sub-agent: spawn it, let it run (any worker may acquire it), wait through the stream.
      await say(chat.id, 1, 'I will ask a sub-agent to look into part of this while I wait.');
      const { createChildChat } = await worker<{ createChildChat: { chat?: { id: string } } }>(
        `mutation ($i: CreateChildChatInput!) { createChildChat(input: $i) { __typename ... on CreateChildChatPayload { chat { id } } } }`,
        { i: { parentChatId: chat.id, workerId, title: pick(SUB_TASKS), content: [{ type: 'TEXT', text: 'Please investigate and report back briefly.' }] } },
      );
      if (createChildChat.chat) {
        const heartbeat = setInterval(() => void worker(`mutation ($w: String!, $c: [ID!]!) { heartbeatChats(input: { workerId: $w, chatIds: $c }) { __typename } }`, { w: workerId, c: [chat.id] }).catch(() => undefined), 30_000);
        try {
          const [child] = await waitSettled(ws, [createChildChat.chat.id]);
          await say(chat.id, 2, `The sub-agent finished (${child?.status.toLowerCase()}); its findings are in the sub-agent chat. Continuing.`);
        } finally {
          clearInterval(heartbeat);
        }
      }
      return void (await finish(chat.id, 'WAITING'));
    }
    if (!chat.parent && roll < 0.45) {
      // A tool the user must answer: the run ends REQUIRES_ACTION with a pending tool call.
      const toolCall = { type: 'tool-call', toolCallId: `call-${Date.now().toString(36)}`, toolName: 'confirm_deploy', args: { environment: 'staging' } };
      await say(chat.id, 1, 'The change is ready. May I deploy it to staging?', [toolCall]);
      return void (await finish(chat.id, 'REQUIRES_ACTION'));
    }
    await say(chat.id, 1, chat.parent ? 'Done: nothing alarming found; two call sites need a follow-up.' : pick(REPLIES));
    if (random() < 0.4) {
      await worker(`mutation ($i: UpsertChatDiffStatusInput!) { upsertChatDiffStatus(input: $i) { __typename } }`, {
        i: {
          chatId: chat.id, url: 'https://git.example.com/acme/web/pull/200', pullRequestState: 'OPEN', pullRequestTitle: chat.title,
          pullRequestDraft: Math.random() < 0.3, changesRequested: false, additions: Math.floor(Math.random() * 200),
          deletions: Math.floor(Math.random() * 50), changedFiles: 1 + Math.floor(Math.random() * 8), headBranch: 'demo/change', baseBranch: 'main', prNumber: 200,
        },
      });
    }
    await finish(chat.id, 'WAITING');
  }

  /** Nothing to run: play the user. Answer a pending tool call, or nudge an idle chat. */
  async function actAsUser(): Promise<void> {
    const { chats } = await gql<{ chats: { nodes: Array<{ id: string; status: string; pendingToolCalls: Array<{ toolCallId: string }> }> } }>(
      options.url,
      options.userToken,
      '{ chats(first: 20, archived: false) { nodes { id status pendingToolCalls { toolCallId } } } }',
    );
    const asking = chats.nodes.find((c) => c.pendingToolCalls.length > 0);
    if (asking) {
      await gql(options.url, options.userToken, `mutation ($i: SubmitToolResultsInput!) { submitToolResults(input: $i) { __typename } }`, {
        i: { chatId: asking.id, results: asking.pendingToolCalls.map((c) => ({ toolCallId: c.toolCallId, output: { approved: true } })) },
      });
      return;
    }
    const idle = chats.nodes.filter((c) => ['WAITING', 'ERROR'].includes(c.status));
    if (idle.length > 0) {
      await gql(options.url, options.userToken, `mutation ($c: ID!, $t: String!) { sendChatMessage(input: { chatId: $c, content: [{ type: TEXT, text: $t }] }) { __typename } }`, {
        c: pick(idle).id,
        t: pick(USER_FOLLOW_UPS),
      });
    }
  }

  async function step(): Promise<void> {
    if (runs.size >= MAX_RUNS) return;
    const { acquireChats } = await worker<{ acquireChats: { chats?: Acquired[] } }>(
      `mutation ($w: String!) { acquireChats(input: { workerId: $w, limit: 1 }) { ... on AcquireChatsPayload {
        chats { id title parent { id } messages(last: 1) { nodes { role parts { __typename } } } } } } }`,
      { w: workerId },
    );
    const chat = acquireChats.chats?.[0];
    if (!chat) {
      if (runs.size === 0) await actAsUser();
      return;
    }
    const task = run(chat)
      .catch((err: unknown) => logger.warn({ err: String(err), chatId: chat.id }, 'demo worker run failed'))
      .finally(() => runs.delete(task));
    runs.add(task);
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await step();
      } catch (err) {
        logger.warn({ err: String(err) }, 'demo worker step failed');
      }
      if (!stopped) await sleep(stepMs);
    }
    await Promise.all(runs);
  })();

  return async () => {
    stopped = true;
    wake?.();
    // Runs in progress end on their own (a sub-agent wait may not): give them a moment, then close.
    await Promise.race([loop, pause(3000)]);
    await ws.dispose();
  };
}
