import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onQuery } from '../src/db/index.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { insertChat, insertMessage, insertModels } from './helpers/data.js';
import { makeUser, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const MESSAGES = `query ($first: Int) { chats(first: $first) { nodes { id title messages(first: 2) { pageInfo { hasNextPage } nodes { databaseId parts { ... on ChatTextPart { text } } } } } } }`;
const NEWEST = `query ($first: Int) { chats(first: $first) { nodes { id messages(last: 1) { pageInfo { hasPreviousPage } nodes { databaseId } } } } }`;
const CHILDREN = `query ($first: Int) { chats(first: $first) { nodes { id children { id title messages(first: 5) { nodes { databaseId parts { ... on ChatTextPart { text } } } } } } } }`;
const PROMPTS = `query ($first: Int) { chats(first: $first, allUsers: true) { nodes { id title promptMessages { databaseId role compressed } } } }`;
const ONE_TRANSCRIPT = `query ($id: ID!) { chat(id: $id) { messages(first: 100) { nodes { databaseId } } } }`;
const ONE_PROMPT = `query ($id: ID!) { chat(id: $id) { promptMessages { databaseId role compressed } } }`;

/** Lists of chats with per-chat message lists cost a fixed number of statements, whatever the page size. */
describe('no N+1: messages and promptMessages are batched per page of chats', () => {
  let t: TestDatabase;
  let server: TestServer;
  let owner: TestUser;
  let admin: TestUser;
  const transcripts = new Map<string, string[]>();

  beforeAll(async () => {
    t = await createTestDatabase();
    await insertModels(t.db);
    owner = await makeUser(t.db);
    admin = await makeUser(t.db, { admin: true });
    for (let i = 0; i < 12; i++) {
      const chat = await insertChat(t.db, owner.user.id, { title: `chat ${i}`, updatedAt: new Date(Date.now() - i * 1000) });
      const child = await insertChat(t.db, owner.user.id, { title: `child ${i}`, parent: chat });
      await insertMessage(t.db, chat, { role: 'system', text: `system ${i}`, visibility: 'model' });
      const visible = [];
      for (let j = 0; j < 3 + (i % 3); j++) visible.push(await insertMessage(t.db, chat, { role: j % 2 ? 'assistant' : 'user', text: `chat ${i} message ${j}` }));
      if (i % 2) {
        await insertMessage(t.db, chat, { role: 'user', text: `summary ${i}`, compressed: true, visibility: 'model' });
        await insertMessage(t.db, chat, { role: 'assistant', text: `after summary ${i}` });
      }
      transcripts.set(chat, visible);
      await insertMessage(t.db, child, { role: 'user', text: `child ${i} task` });
      await insertMessage(t.db, child, { role: 'assistant', text: `child ${i} result` });
    }
  });
  afterAll(async () => {
    await server?.stop();
    await t.close();
  });

  async function measure(doc: string, first: number, token: string): Promise<{ statements: number; data: any }> {
    server ??= await startTestServer(t.db);
    // The token's last_used_at is fresh, so no fire-and-forget touch can land inside the measurement.
    await t.db.none('UPDATE api_tokens SET last_used_at = now()');
    await server.gql('{ viewer { id } }', {}, token);
    const statements: string[] = [];
    const stop = onQuery((q) => statements.push(q));
    try {
      const res = await server.gql<any>(doc, { first }, token);
      expect(res.errors).toBeUndefined();
      return { statements: statements.length, data: res.data };
    } finally {
      stop();
    }
  }

  /** Each chat's answer in a list equals what `chat(id)` answers for it alone. */
  async function alone(doc: string, chatGid: string, token: string) {
    const res = await server.gql<any>(doc, { id: chatGid }, token);
    expect(res.errors).toBeUndefined();
    return res.data.chat;
  }

  it('chats { messages }: same statements for 3 and 12 chats, each chat its own first page', async () => {
    const three = await measure(MESSAGES, 3, owner.token);
    const twelve = await measure(MESSAGES, 12, owner.token);
    expect(twelve.data.chats.nodes).toHaveLength(12);
    expect(twelve.statements).toBe(three.statements);
    expect(twelve.statements).toBeLessThanOrEqual(3); // token, page, one messages statement
    for (const node of twelve.data.chats.nodes) {
      const id = Buffer.from(node.id, 'base64').toString().split(':')[1]!;
      expect(node.messages.nodes.map((m: any) => m.databaseId)).toEqual(transcripts.get(id)!.slice(0, 2));
      expect(node.messages.pageInfo.hasNextPage).toBe(true);
      expect(node.messages.nodes[0].parts[0].text).toBe(`${node.title} message 0`);
    }
  });

  it('chats { messages(last: 1) }: batched backward pages are each chat\'s newest message', async () => {
    const three = await measure(NEWEST, 3, owner.token);
    const twelve = await measure(NEWEST, 12, owner.token);
    expect(twelve.statements).toBe(three.statements);
    for (const node of twelve.data.chats.nodes) {
      const all = (await alone(ONE_TRANSCRIPT, node.id, owner.token)).messages.nodes.map((m: any) => m.databaseId);
      expect(node.messages.nodes.map((m: any) => m.databaseId)).toEqual(all.slice(-1));
      expect(node.messages.pageInfo.hasPreviousPage).toBe(true);
    }
  });

  it('chats { children { messages } }: same statements for 3 and 12 chats', async () => {
    const three = await measure(CHILDREN, 3, owner.token);
    const twelve = await measure(CHILDREN, 12, owner.token);
    expect(twelve.statements).toBe(three.statements);
    expect(twelve.statements).toBeLessThanOrEqual(4); // token, page, extras (children), one messages statement
    for (const node of twelve.data.chats.nodes) {
      const [child] = node.children;
      const i = child.title.split(' ')[1];
      expect(child.messages.nodes.map((m: any) => m.parts[0].text)).toEqual([`child ${i} task`, `child ${i} result`]);
    }
  });

  it('chats { promptMessages }: same statements for 3 and 12 chats, each chat its own prompt view', async () => {
    const three = await measure(PROMPTS, 3, admin.token);
    const twelve = await measure(PROMPTS, 12, admin.token);
    expect(twelve.statements).toBe(three.statements);
    expect(twelve.statements).toBeLessThanOrEqual(3); // token, page, one prompt statement
    for (const node of twelve.data.chats.nodes) {
      expect(node.promptMessages).toEqual((await alone(ONE_PROMPT, node.id, admin.token)).promptMessages);
      const i = Number(node.title.split(' ')[1]);
      // Odd chats were compressed: the summary replaces what came before it (the system message stays).
      expect(node.promptMessages.filter((m: any) => m.compressed)).toHaveLength(i % 2);
      expect(node.promptMessages[0].role).toBe('SYSTEM');
    }
  });
});
