import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoWorker } from '../src/demoWorker.js';
import { insertModels } from './helpers/data.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { collect } from './helpers/subscriptions.js';

const CREATE = 'mutation ($input: CreateChatInput!) { createChat(input: $input) { ... on ChatMessagePayload { chat { id } } } }';
const CHAT = `query ($id: ID!) { chat(id: $id) {
  status children { id status }
  messages(last: 10) { nodes { role parts { __typename ... on ChatTextPart { text } ... on ChatToolCallPart { toolName } ... on ChatToolResultPart { result } } } }
} }`;
const EVENTS = 'subscription ($chatId: ID!) { chatEvents(chatId: $chatId) { kind attempt seq parts { text } child { id } } }';

interface ChatView {
  status: string;
  children: Array<{ id: string; status: string }>;
  messages: { nodes: Array<{ role: string; parts: Array<{ __typename: string; text?: string; toolName?: string; result?: unknown }> }> };
}

describe('the demo worker (npm start -- --demo)', () => {
  let t: TestDatabase;
  let server: TestServer;
  let alice: TestUser;
  let worker: TestUser;
  let roll = 0.1;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    alice = await makeUser(t.db);
    worker = await makeUser(t.db, { scopes: ['worker'] });
    server = await startTestServer(t.db);
  });
  afterAll(async () => {
    await stop?.();
    await server.stop();
    await t.close();
  });

  const view = async (id: string) => (await server.gql<{ chat: ChatView }>(CHAT, { id }, alice.token)).data!.chat;
  const texts = (c: ChatView) => c.messages.nodes.flatMap((m) => m.parts.map((p) => p.text ?? p.toolName ?? JSON.stringify(p.result)));
  async function newChat(title: string): Promise<string> {
    const res = await server.gql<{ createChat: { chat: { id: string } } }>(CREATE, { input: { title, content: [{ type: 'TEXT', text: 'please help' }] } }, alice.token);
    return res.data!.createChat.chat.id;
  }

  it('streams its answer, spawns a sub-agent and waits for it through chatsSettled, then asks for a tool result that the user side answers', async () => {
    const parent = await newChat('with a sub-agent');
    const events = collect<{ chatEvents: { kind: string; attempt: number | null; seq: number | null; parts: Array<{ text: string }> | null; child: { id: string } | null } }>(
      server.ws({ authToken: alice.token }), EVENTS, { chatId: parent },
    );
    await expect.poll(() => server.app.liveSubscriptions).toBe(1);
    stop = startDemoWorker({ url: server.url, workerToken: worker.token, userToken: alice.token, stepMs: 100, partMs: 5, random: () => roll });

    // The parent streams its first words, spawns a child, and finishes only after the child settled.
    await expect.poll(async () => (await view(parent)).children.length, { timeout: 30_000 }).toBe(1);
    await expect.poll(async () => texts(await view(parent)).some((x) => x?.startsWith('The sub-agent finished')), { timeout: 30_000 }).toBe(true);
    const done = await view(parent);
    expect(done.children[0]!.status).not.toMatch(/PENDING|RUNNING/);
    const kinds = events.data.map((d) => d.chatEvents.kind);
    expect(kinds).toContain('MESSAGE_PART');
    expect(kinds).toContain('CHILD_UPDATE');
    const streamed = events.data.filter((d) => d.chatEvents.kind === 'MESSAGE_PART' && d.chatEvents.attempt === 1).map((d) => d.chatEvents.parts![0]!.text).join('');
    expect(streamed).toBe('I will ask a sub-agent to look into part of this while I wait.');
    events.unsubscribe();

    // Next: a tool call the user must answer; the demo's user side answers it and the run resumes.
    roll = 0.3;
    const asking = await newChat('needs approval');
    await expect.poll(async () => texts(await view(asking)).includes('confirm_deploy'), { timeout: 30_000 }).toBe(true);
    await expect.poll(async () => texts(await view(asking)).some((x) => x?.startsWith('Thanks for confirming')), { timeout: 30_000 }).toBe(true);
    const roles = (await view(asking)).messages.nodes.map((m) => m.role);
    expect(roles.slice(-3)).toEqual(['ASSISTANT', 'TOOL', 'ASSISTANT']);
  });
});
