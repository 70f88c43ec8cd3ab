import { RateLimitedError as RateLimited } from '../../resolvers/errors.js';
import { builder } from '../builder.js';
import { ErrorInterface } from './Error.js';

/** A per-chat rate limit refused the call. */
export const RateLimitedError = builder.objectType(RateLimited, {
  name: 'RateLimitedError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    retryAfterMs: t.exposeInt('retryAfterMs', { description: 'Wait at least this many milliseconds before retrying.' }),
    retryAfterSeconds: t.exposeInt('retryAfterSeconds', { description: 'The same wait in whole seconds (rounded up).' }),
  }),
});
