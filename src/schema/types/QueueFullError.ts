import { QueueFullError as QueueFullErrorClass } from '../../resolvers/errors.js';
import { builder } from '../builder.js';
import { ErrorInterface } from './Error.js';

/** The chat's queue is full. */
export const QueueFullError = builder.objectType(QueueFullErrorClass, {
  name: 'QueueFullError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    limit: t.exposeInt('limit'),
  }),
});
