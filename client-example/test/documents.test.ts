import { print, type DocumentNode, type FieldNode, type SelectionSetNode } from 'graphql';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ChatMessagesQuery, MessageFields } from '../src/documents.js';
import type { ResultOf } from '../src/graphql.js';
import type { Message } from '../src/liveMerge.js';

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

describe('documents', () => {
  it('the transcript page selects exactly what MessageFields selects (spelled out for the cost limit)', () => {
    const nodes = field(field(field(operationSelection(ChatMessagesQuery), 'chat').selectionSet, 'messages').selectionSet, 'nodes');
    const fragment = (MessageFields as DocumentNode).definitions.find((d) => d.kind === 'FragmentDefinition');
    if (fragment?.kind !== 'FragmentDefinition') throw new Error('no fragment');
    expect(print(nodes.selectionSet!)).toBe(print(fragment.selectionSet));
    type PageNode = NonNullable<NonNullable<ResultOf<typeof ChatMessagesQuery>['chat']>['messages']['nodes'][number]>;
    expectTypeOf<PageNode>().toEqualTypeOf<Message>();
  });
});
