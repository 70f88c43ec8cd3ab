import { ValidationError as ValidationErrorClass } from '../../resolvers/errors.js';
import { builder } from '../builder.js';
import { ErrorInterface } from './Error.js';

/** The input was rejected; nothing was written. */
export const ValidationError = builder.objectType(ValidationErrorClass, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { nullable: true, description: 'The input field at fault, when one is.' }),
  }),
});
