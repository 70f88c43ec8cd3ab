import { hostname } from 'node:os';
import { logger } from './logger.js';

/**
 * `chatgraph start --demo`: a toy chat worker that drives chats through runs so the live
 * stream moves. It is a plain GraphQL client of the server it runs beside (worker token for the
 * worker protocol, alice's token to keep the conversation going), so it doubles as a runnable
 * example of docs/worker-protocol.md.
 */
export interface DemoWorkerOptions {
  url: string;
  workerToken: string;
  userToken: string;
  /** Pause between steps; the demo is meant to be watched. */
  stepMs?: number;
}

const REPLIES = [
  'I read the failing test and reproduced it locally.',
  'The fix is a two-line change in the session middleware; tests pass now.',
  'I opened a pull request with the change and a regression test.',
  'Refactored the module into smaller files; behaviour is unchanged.',
  'I need your approval before running the migration on staging.',
];

const USER_FOLLOW_UPS = ['Looks good, continue.', 'Can you add a test for that?', 'Please also update the docs.'];

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

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Starts the loop; the returned function stops it and waits for the current step. */
export function startDemoWorker(options: DemoWorkerOptions): () => Promise<void> {
  const workerId = `demo-${hostname()}-${process.pid}`;
  const stepMs = options.stepMs ?? 2500;
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

  async function runOnce(): Promise<void> {
    const { acquireChats } = await gql<{ acquireChats: { chats?: Array<{ id: string; title: string }> } }>(
      options.url,
      options.workerToken,
      `mutation($w: String!) { acquireChats(input: { workerId: $w, limit: 1 }) { ... on AcquireChatsPayload { chats { id title } } } }`,
      { w: workerId },
    );
    const chat = acquireChats.chats?.[0];
    if (!chat) {
      // Nothing pending: play the user and nudge one of alice's idle chats.
      const { chats } = await gql<{ chats: { nodes: Array<{ id: string; status: string }> } }>(
        options.url,
        options.userToken,
        '{ chats(first: 20, archived: false) { nodes { id status } } }',
      );
      const idle = chats.nodes.filter((c) => ['WAITING', 'REQUIRES_ACTION', 'ERROR'].includes(c.status));
      if (idle.length > 0) {
        await gql(options.url, options.userToken, `mutation($c: ID!, $t: String!) { sendChatMessage(input: { chatId: $c, content: [{ type: TEXT, text: $t }] }) { __typename } }`, {
          c: pick(idle).id,
          t: pick(USER_FOLLOW_UPS),
        });
      }
      return;
    }
    await sleep(stepMs);
    const input = 800 + Math.floor(Math.random() * 4000);
    const output = 100 + Math.floor(Math.random() * 600);
    const reply = pick(REPLIES);
    await gql(options.url, options.workerToken, `mutation($i: AppendChatMessagesInput!) { appendChatMessages(input: $i) { __typename } }`, {
      i: {
        chatId: chat.id,
        workerId,
        messages: [{
          role: 'ASSISTANT',
          parts: [{ type: 'text', text: reply }],
          usage: { inputTokens: String(input), outputTokens: String(output), totalTokens: String(input + output), cacheReadTokens: String(input * 2) },
          runtimeMs: String(1000 + Math.floor(Math.random() * 5000)),
        }],
      },
    });
    if (Math.random() < 0.4) {
      await gql(options.url, options.workerToken, `mutation($i: UpsertChatDiffStatusInput!) { upsertChatDiffStatus(input: $i) { __typename } }`, {
        i: {
          chatId: chat.id,
          url: 'https://git.example.com/acme/web/pull/200',
          pullRequestState: 'OPEN',
          pullRequestTitle: chat.title,
          pullRequestDraft: Math.random() < 0.3,
          changesRequested: false,
          additions: Math.floor(Math.random() * 200),
          deletions: Math.floor(Math.random() * 50),
          changedFiles: 1 + Math.floor(Math.random() * 8),
          headBranch: 'demo/change',
          baseBranch: 'main',
          prNumber: 200,
        },
      });
    }
    await sleep(stepMs / 2);
    const status = reply.includes('approval') ? 'REQUIRES_ACTION' : 'WAITING';
    await gql(options.url, options.workerToken, `mutation($c: ID!, $w: String!, $s: ChatStatus!) { finishChatRun(input: { chatId: $c, workerId: $w, status: $s }) { __typename } }`, {
      c: chat.id,
      w: workerId,
      s: status,
    });
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await runOnce();
      } catch (err) {
        logger.warn({ err: String(err) }, 'demo worker step failed');
      }
      if (!stopped) await sleep(stepMs);
    }
  })();

  return async () => {
    stopped = true;
    wake?.();
    await loop;
  };
}
