import type { DomainError } from '../resolvers/errors.js';

type ErrorClass = new (...args: never[]) => DomainError;

/**
 * Errors-plugin options for a mutation: the result union is named `<Mutation>Result` and holds
 * the payload plus ValidationError, NotFoundError, ForbiddenError (builder defaults) and `extra`.
 */
export function mutationErrors(mutation: string, extra: ErrorClass[] = []) {
  const name = `${mutation[0]!.toUpperCase()}${mutation.slice(1)}Result`;
  return { types: extra, directResult: true as const, union: { name } };
}
