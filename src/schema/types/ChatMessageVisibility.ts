import { builder } from '../builder.js';

/** Who sees a message: the user's transcript, the model's prompt, or both. */
export const ChatMessageVisibility = builder.enumType('ChatMessageVisibility', {
  values: { USER: { value: 'user' }, MODEL: { value: 'model' }, BOTH: { value: 'both' } } as const,
});
