import type { MessagePart } from '../../resolvers/content.js';
import { builder } from '../builder.js';
import { ChatTextPart } from './ChatTextPart.js';
import { ChatReasoningPart } from './ChatReasoningPart.js';
import { ChatToolCallPart } from './ChatToolCallPart.js';
import { ChatToolResultPart } from './ChatToolResultPart.js';
import { ChatSourcePart } from './ChatSourcePart.js';
import { ChatFilePart } from './ChatFilePart.js';
import { ChatFileReferencePart } from './ChatFileReferencePart.js';
import { ChatContextFilePart } from './ChatContextFilePart.js';

/** One piece of a message's content (content version 1; legacy rows are converted on read). */
export const ChatMessagePart = builder.unionType('ChatMessagePart', {
  // Explicit resolveType (no per-type isTypeOf probing): one lookup per part, and it works the
  // same in every executor.
  resolveType: (part) => PART_TYPES[(part as MessagePart).type],
  types: [ChatTextPart, ChatReasoningPart, ChatToolCallPart, ChatToolResultPart, ChatSourcePart, ChatFilePart, ChatFileReferencePart, ChatContextFilePart],
});

const PART_TYPES: Record<MessagePart['type'], string> = {
  text: 'ChatTextPart',
  reasoning: 'ChatReasoningPart',
  'tool-call': 'ChatToolCallPart',
  'tool-result': 'ChatToolResultPart',
  source: 'ChatSourcePart',
  file: 'ChatFilePart',
  'file-reference': 'ChatFileReferencePart',
  'context-file': 'ChatContextFilePart',
};
