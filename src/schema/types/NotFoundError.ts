import { NotFoundError as NotFoundErrorClass } from '../../resolvers/errors.js';
import { builder } from '../builder.js';
import { ErrorInterface } from './Error.js';

/** The chat, message or config does not exist (or is not yours). */
export const NotFoundError = builder.objectType(NotFoundErrorClass, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
  }),
});
