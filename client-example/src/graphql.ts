import { initGraphQLTada } from 'gql.tada';
import type { introspection } from './graphql-env.js';

/**
 * Typed documents: `graphql-env.d.ts` is generated from ../schema.graphql (`npm run generate`,
 * run by dev, build and typecheck), so a schema change that breaks a document or its use is a
 * type error of `npm run typecheck`.
 */
export const graphql = initGraphQLTada<{
  introspection: introspection;
  disableMasking: true;
  scalars: { DateTime: string; BigInt: string; JSON: unknown };
}>();

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada';
