import { builder } from '../builder.js';

/** Every typed mutation failure implements Error; clients can always read `message`. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});
