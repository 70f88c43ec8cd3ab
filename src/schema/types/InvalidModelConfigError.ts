import { InvalidModelConfigError as InvalidModelConfigErrorClass } from '../../resolvers/errors.js';
import { builder } from '../builder.js';
import { ErrorInterface } from './Error.js';

/** The model config is unknown, deleted or disabled; nothing was written. */
export const InvalidModelConfigError = builder.objectType(InvalidModelConfigErrorClass, {
  name: 'InvalidModelConfigError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    modelConfigId: t.exposeString('modelConfigId', { nullable: true }),
  }),
});
