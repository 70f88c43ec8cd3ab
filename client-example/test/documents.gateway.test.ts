import { print, type DocumentNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeGlobalID } from '../../src/schema/globalIds.js';
import { insertChat, insertModels } from '../../test/helpers/data.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/db.js';
import { makeUser } from '../../test/helpers/fixtures.js';
import { startTestServer, type TestServer } from '../../test/helpers/server.js';
import { subscribed } from '../../test/helpers/subscriptions.js';
import * as documents from '../src/documents.js';

// Every operation the dashboard and the watcher send passes the real gateway's validation (its
// GraphQL Armor cost, depth and token limits included), whatever the API answers to it. The
// cost limit multiplies a list's selection by its page size, so a fat fragment fails here first.

let database: TestDatabase;
let server: TestServer;
let token: string;
let variables: Record<string, unknown>;

beforeAll(async () => {
  database = await createTestDatabase();
  await insertModels(database.db);
  const alice = await makeUser(database.db);
  token = alice.token;
  const chatId = encodeGlobalID('Chat', await insertChat(database.db, alice.user.id, { title: 'documents' }));
  const input = { chatId, queuedMessageId: encodeGlobalID('ChatQueuedMessage', '1'), content: [{ type: 'TEXT', text: 'hi' }] };
  variables = { id: chatId, chatId, archived: false, input };
  server = await startTestServer(database.db);
});

afterAll(async () => {
  await server?.stop();
  await database?.close();
});

const operations = Object.entries(documents).flatMap(([name, document]) => {
  const definition = (document as DocumentNode).definitions[0];
  return definition?.kind === 'OperationDefinition' ? [{ name, kind: definition.operation, text: print(document as DocumentNode) }] : [];
});

/** The input each mutation takes (the send input has fields the others do not). */
function inputFor(name: string, input: Record<string, unknown>): Record<string, unknown> {
  if (name === 'SendMessageMutation') return { chatId: input.chatId, content: input.content };
  if (name === 'PromoteQueuedMutation' || name === 'DeleteQueuedMutation') return { chatId: input.chatId, queuedMessageId: input.queuedMessageId };
  return { chatId: input.chatId };
}

describe('client-example documents against the gateway', () => {
  it('covers every operation (a new one must be added here, with its input)', () => {
    expect(operations.map((o) => o.name).sort()).toEqual([
      'ArchiveMutation', 'ChatEventsSubscription', 'ChatMessagesQuery', 'ChatViewQuery', 'ChatWatchSubscription', 'CostQuery', 'DeleteQueuedMutation',
      'MarkReadMutation', 'PromoteQueuedMutation', 'SendMessageMutation', 'SidebarQuery', 'UnarchiveMutation', 'ViewerQuery',
    ]);
  });

  it.each(operations.filter((o) => o.kind !== 'subscription'))('$name passes validation', async ({ name, text }) => {
    const response = await server.gql(text, { ...variables, input: inputFor(name, variables.input as Record<string, unknown>) }, token);
    expect(response.errors ?? []).toEqual([]);
    expect(response.data).toBeTruthy();
  });

  it.each(operations.filter((o) => o.kind === 'subscription'))('$name passes validation and subscribes', async ({ text }) => {
    const before = server.app.liveSubscriptions;
    const subscription = await subscribed(server.app, server.ws({ authToken: token }), text, variables);
    expect(subscription.error).toBeUndefined();
    expect(subscription.results).toEqual([]);
    subscription.unsubscribe();
    await expect.poll(() => server.app.liveSubscriptions).toBe(before);
  });
});
