import { getNamedType, GraphQLError, isListType, isNonNullType, type DocumentNode, type GraphQLOutputType, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimatorArgs } from 'graphql-query-complexity';
import { ERROR_CODES } from '../codes.js';

/** Largest cost an operation may have (documented in the README, "Security"). */
export const MAX_COST = 100_000;

/** Default page size of connections (`first`/`last` absent), as the resolvers apply it. */
const DEFAULT_PAGE = 50;

/**
 * Items a list field returns at most (domain caps) or typically (unbounded lists, whose bytes the
 * response budget bounds instead). Keyed `Type.field`; other lists count as DEFAULT_LIST.
 */
const LIST_SIZES: Record<string, number> = {
  'Chat.queuedMessages': 20, // at most 20 queued per chat
  'ChatStreamEvent.queuedMessages': 20,
  'ChatMessage.parts': 10,
  'ChatQueuedMessage.parts': 10,
  'AcquireChatsPayload.chats': 10, // acquireChats limit <= 10
};
const DEFAULT_LIST = 10;

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/**
 * Cost of one field: 1 for itself plus its selection, times the number of items it can return,
 * so nested pages multiply (`chats(first: 100) { nodes { messages(first: 100) … } }` costs
 * 100 × 100 × its children). Connections count `first`/`last` (or the default page).
 */
function estimate({ type, field, args, childComplexity }: ComplexityEstimatorArgs): number {
  let items = 1;
  const page = args.first ?? args.last;
  if (getNamedType(field.type).name.endsWith('Connection')) items = typeof page === 'number' && page > 0 ? Math.min(page, 100) : DEFAULT_PAGE;
  // A connection's `nodes`/`edges` are its page, already counted on the connection field.
  else if (isList(field.type) && !type.name.endsWith('Connection')) items = LIST_SIZES[`${type.name}.${field.name}`] ?? DEFAULT_LIST;
  return items * (1 + childComplexity);
}

// Yoga reuses one parsed DocumentNode per distinct document, so costs are remembered per
// document and variables (a few variable sets each): a hot dashboard query is costed once.
const remembered = new WeakMap<DocumentNode, Map<string, number | null>>();

/** The operation's cost with its variables; null when it cannot be computed (bad variables: execution reports them). */
export function operationCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): number | null {
  let byVariables = remembered.get(document);
  const key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
  const known = byVariables?.get(key);
  if (known !== undefined) return known;
  let cost: number | null;
  try {
    cost = getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators: [estimate] });
  } catch {
    cost = null;
  }
  if (!byVariables) remembered.set(document, (byVariables = new Map()));
  if (byVariables.size >= 32) byVariables.clear();
  if (key.length < 2000) byVariables.set(key, cost);
  return cost;
}

/** A COST_LIMIT_EXCEEDED error when the operation costs more than `max`, else null. */
export function costError(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null, max = MAX_COST): GraphQLError | null {
  const cost = operationCost(schema, document, variables, operationName);
  if (cost === null || cost <= max) return null;
  return new GraphQLError(`Query is too expensive: cost ${Math.round(cost)} exceeds the limit of ${max} (list sizes multiply: ask for smaller pages)`, {
    extensions: { code: ERROR_CODES.COST_LIMIT_EXCEEDED, cost: Math.round(cost), limit: max },
  });
}
