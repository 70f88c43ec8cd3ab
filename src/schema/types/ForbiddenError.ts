import { ForbiddenError as ForbiddenErrorClass } from '../../resolvers/errors.js';
import { builder } from '../builder.js';
import { ErrorInterface } from './Error.js';

/** The token may not do this. */
export const ForbiddenError = builder.objectType(ForbiddenErrorClass, {
  name: 'ForbiddenError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
  }),
});
