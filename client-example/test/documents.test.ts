import { print, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ChatEventsSubscription, ChatMessagesQuery, ChatViewQuery, MessageFields } from '../src/documents.js';
import type { ResultOf } from '../src/graphql.js';
import type { Message, StreamEvent } from '../src/liveMerge.js';

function field(selectionSet: SelectionSetNode | undefined, name: string): FieldNode {
  const found = selectionSet?.selections.find((s): s is FieldNode => s.kind === 'Field' && s.name.value === name);
  if (!found) throw new Error(`no field ${name}`);
  return found;
}

function operationSelection(document: DocumentNode): SelectionSetNode {
  const definition = document.definitions.find((d) => d.kind === 'OperationDefinition');
  if (definition?.kind !== 'OperationDefinition') throw new Error('no operation');
  return definition.selectionSet;
}

/** The field names a selection selects directly, through its fragment spreads and inline fragments. */
function fieldNames(document: DocumentNode, selectionSet: SelectionSetNode | undefined, into = new Set<string>()): Set<string> {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === 'Field') into.add(selection.name.value);
    if (selection.kind === 'InlineFragment') fieldNames(document, selection.selectionSet, into);
    if (selection.kind === 'FragmentSpread') {
      const fragment = document.definitions.find((d) => d.kind === 'FragmentDefinition' && d.name.value === selection.name.value);
      if (fragment?.kind === 'FragmentDefinition') fieldNames(document, fragment.selectionSet, into);
    }
  }
  return into;
}

describe('documents', () => {
  it('a chatEvents event carries no whole queue: its chat leaves the queue out, QUEUE_UPDATE brings queueChange', () => {
    const event = field(operationSelection(ChatEventsSubscription), 'chatEvents');
    // Only `child` (a sidebar row: ChatListFields, the queue's ids) may name the queue.
    const eventFields = event.selectionSet!.selections.filter((s): s is FieldNode => s.kind === 'Field' && s.name.value !== 'child');
    expect(eventFields.map((f) => f.name.value)).not.toContain('queuedMessages');
    for (const f of eventFields) expect(fieldNames(ChatEventsSubscription, f.selectionSet).has('queuedMessages'), f.name.value).toBe(false);
    expect([...fieldNames(ChatEventsSubscription, field(event.selectionSet, 'queueChange').selectionSet)]).toEqual(['added', 'updated', 'removedIds', 'length']);
    expectTypeOf<StreamEvent['chat']>().not.toHaveProperty('queuedMessages');
    // The chat view's query still loads the whole queue, which the events then keep in step.
    expect(fieldNames(ChatViewQuery, field(operationSelection(ChatViewQuery), 'chat').selectionSet).has('queuedMessages')).toBe(true);
  });

  it('the transcript page selects exactly what MessageFields selects (spelled out for the cost limit)', () => {
    const nodes = field(field(field(operationSelection(ChatMessagesQuery), 'chat').selectionSet, 'messages').selectionSet, 'nodes');
    const fragment = (MessageFields as DocumentNode).definitions.find((d) => d.kind === 'FragmentDefinition');
    if (fragment?.kind !== 'FragmentDefinition') throw new Error('no fragment');
    expect(print(nodes.selectionSet!)).toBe(print(fragment.selectionSet));
    type PageNode = NonNullable<NonNullable<ResultOf<typeof ChatMessagesQuery>['chat']>['messages']['nodes'][number]>;
    expectTypeOf<PageNode>().toEqualTypeOf<Message>();
  });
});
