import type { PartDelta } from '../../events/messageParts.js';
import { builder } from '../builder.js';

/** What a streamed delta adds to. */
export const ChatMessagePartDeltaType = builder.enumType('ChatMessagePartDeltaType', {
  values: {
    TEXT: { value: 'text', description: 'Append `text` to the message text.' },
    REASONING: { value: 'reasoning', description: 'Append `text` to the reasoning.' },
    TOOL_CALL: { value: 'tool-call', description: 'Append `argsDelta` to the JSON arguments of tool call `toolCallId`.' },
  } as const,
});

/** One live delta of the assistant message being generated (MESSAGE_PART); never stored. */
export const ChatMessagePartDelta = builder.objectRef<PartDelta>('ChatMessagePartDelta').implement({
  fields: (t) => ({
    type: t.field({ type: ChatMessagePartDeltaType, resolve: (p) => p.type }),
    text: t.string({ nullable: true, description: 'TEXT and REASONING.', resolve: (p) => (p.type === 'tool-call' ? null : p.text) }),
    toolCallId: t.string({ nullable: true, description: 'TOOL_CALL.', resolve: (p) => (p.type === 'tool-call' ? p.toolCallId : null) }),
    toolName: t.string({ nullable: true, description: 'TOOL_CALL (usually on the first delta of a call).', resolve: (p) => (p.type === 'tool-call' ? p.toolName : null) }),
    argsDelta: t.string({ nullable: true, description: 'TOOL_CALL: the next fragment of the arguments JSON.', resolve: (p) => (p.type === 'tool-call' ? p.argsDelta : null) }),
  }),
});
