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
  types: [ChatTextPart, ChatReasoningPart, ChatToolCallPart, ChatToolResultPart, ChatSourcePart, ChatFilePart, ChatFileReferencePart, ChatContextFilePart],
});
