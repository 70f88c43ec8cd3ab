import type { Usage } from '../../resolvers/messages.js';
import { builder } from '../builder.js';

/** Token usage of a model turn (reasoning tokens are part of output tokens). */
export const ChatMessageUsage = builder.objectRef<Usage>('ChatMessageUsage').implement({
  fields: (t) => ({
    inputTokens: t.expose('inputTokens', { type: 'BigInt', nullable: true }),
    outputTokens: t.expose('outputTokens', { type: 'BigInt', nullable: true }),
    totalTokens: t.expose('totalTokens', { type: 'BigInt', nullable: true }),
    reasoningTokens: t.expose('reasoningTokens', { type: 'BigInt', nullable: true }),
    cacheCreationTokens: t.expose('cacheCreationTokens', { type: 'BigInt', nullable: true }),
    cacheReadTokens: t.expose('cacheReadTokens', { type: 'BigInt', nullable: true }),
    contextLimit: t.expose('contextLimit', { type: 'BigInt', nullable: true }),
  }),
});
