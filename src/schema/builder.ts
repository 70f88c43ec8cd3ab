import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import StorableInputPlugin from './storableInputPlugin.js';
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { Context } from '../context.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../resolvers/errors.js';

/** The named type parameters of the one schema builder. */
export interface SchemaTypes {
  Context: Context;
  AuthScopes: {
    /** Any valid token. */
    authenticated: boolean;
    /** A token with the user scope (acts on its owner's chats); worker- or admin-only tokens lack it. */
    user: boolean;
    /** A token with the worker scope (drives chat runs). */
    worker: boolean;
    /** An admin user on a token with the admin scope. */
    admin: boolean;
  };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    BigInt: { Input: bigint; Output: bigint | number | string };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
  // Edges may be null so one unreadable node (e.g. an unknown content version) nulls only its edge.
  DefaultEdgesNullability: { list: false; items: true };
}

/**
 * 64-bit integers (token counts, microdollars) serialised as decimal strings, since JSON numbers
 * lose precision past 2^53. Accepts strings or integral numbers as input.
 */
const BigIntScalar = new GraphQLScalarType<bigint, string>({
  name: 'BigInt',
  description: 'A 64-bit signed integer, serialised as a decimal string.',
  serialize(value) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number' && Number.isInteger(value)) return String(value);
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
    throw new GraphQLError(`BigInt cannot represent ${String(value)}`);
  },
  parseValue(value) {
    return toBigInt(value);
  },
  parseLiteral(ast) {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return toBigInt(ast.value);
    throw new GraphQLError('BigInt must be an integer or a decimal string');
  },
});

function toBigInt(value: unknown): bigint {
  if ((typeof value === 'string' && /^-?\d{1,19}$/.test(value)) || (typeof value === 'number' && Number.isSafeInteger(value))) {
    const n = BigInt(value);
    if (n >= -(2n ** 63n) && n < 2n ** 63n) return n;
  }
  throw new GraphQLError('BigInt must be a 64-bit integer or a decimal string of one');
}

// Plugin order is deliberate: Relay first (global ids are decoded before anything sees them),
// Errors before ScopeAuth (an authorisation failure on a mutation can become a typed error),
// StorableInput after ScopeAuth (an anonymous caller learns nothing about its input) and inside
// Errors (unstorable input is a mutation's typed ValidationError). Batching is done by the
// per-request DataLoaders on the context (src/resolvers/loaders.ts), which prime each other
// across relations, so the Pothos dataloader plugin is not used.
export const builder = new SchemaBuilder<SchemaTypes>({
  plugins: [RelayPlugin, ErrorsPlugin, ScopeAuthPlugin, StorableInputPlugin],
  defaultFieldNullability: false,
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { nullable: true },
    nodesQueryOptions: false,
    nodesOnConnection: true,
    edgesFieldOptions: { nullable: { list: false, items: true } },
  },
  errors: {
    // Every mutation result union includes these; mutations add their specific ones.
    defaultTypes: [ValidationError, NotFoundError, ForbiddenError],
    defaultUnionOptions: {},
  },
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      authenticated: ctx.viewer !== null,
      user: ctx.viewer?.scopes.has('user') ?? false,
      worker: ctx.viewer?.isWorker ?? false,
      admin: ctx.viewer?.isAdmin ?? false,
    }),
    // A viewer without the scope gets the domain ForbiddenError: a typed union member on
    // mutations (the errors plugin wraps scope-auth), code FORBIDDEN on queries.
    unauthorizedError: (_parent, ctx) =>
      ctx.viewer
        ? new ForbiddenError('This token lacks the scope this field needs')
        : new GraphQLError('Authentication required: send Authorization: Bearer <token>', {
            extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
          }),
  },
});

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('BigInt', BigIntScalar);

builder.queryType({ authScopes: { authenticated: true } });
builder.mutationType({ authScopes: { authenticated: true } });
// Checked when a subscription starts (authorizeOnSubscribe), not again per event.
builder.subscriptionType({ authScopes: { authenticated: true } });
