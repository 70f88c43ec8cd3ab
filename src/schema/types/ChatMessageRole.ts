import { builder } from '../builder.js';

/** Who wrote a message. */
export const ChatMessageRole = builder.enumType('ChatMessageRole', {
  values: { SYSTEM: { value: 'system' }, USER: { value: 'user' }, ASSISTANT: { value: 'assistant' }, TOOL: { value: 'tool' } } as const,
});
