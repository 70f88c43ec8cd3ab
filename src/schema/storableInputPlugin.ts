import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { describeProblem, findUnstorable } from '../limits/storable.js';
import { ValidationError } from '../resolvers/errors.js';

/**
 * Checks the arguments of every field with arguments before it resolves (or subscribes): a
 * string Postgres cannot store, or nesting past the input depth limit, is a ValidationError
 * naming the argument path, so it becomes the mutation's typed ValidationError or a
 * BAD_USER_INPUT query error instead of a database error.
 */
export class StorableInputPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (Object.keys(fieldConfig.args).length === 0) return resolver;
    return (parent, args, ctx, info) => {
      check(args);
      return resolver(parent, args, ctx, info);
    };
  }

  override wrapSubscribe(
    subscribe: GraphQLFieldResolver<unknown, Types['Context'], object> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> | undefined {
    if (!subscribe || Object.keys(fieldConfig.args).length === 0) return subscribe;
    return (parent, args, ctx, info) => {
      check(args);
      return subscribe(parent, args, ctx, info);
    };
  }
}

function check(args: object): void {
  const problem = findUnstorable(args);
  if (problem) throw new ValidationError(describeProblem(problem), problem.path);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      storableInput: StorableInputPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('storableInput', StorableInputPlugin);
export default 'storableInput' as const;
