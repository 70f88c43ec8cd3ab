import { ChatArchivedError } from '../../resolvers/errors.js';
import { submitToolResults, type SubmitToolResultsResult } from '../../resolvers/toolResults.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatMessage } from './ChatMessage.js';
import { ChatToolCallPart } from './ChatToolCallPart.js';

/** The tool messages written and what is still unanswered. */
export const SubmitToolResultsPayload = builder.objectRef<SubmitToolResultsResult>('SubmitToolResultsPayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, description: 'PENDING when every call is answered, else still REQUIRES_ACTION.', resolve: (p) => p.chat }),
    messages: t.field({ type: [ChatMessage], description: 'One TOOL message per result, in input order.', resolve: (p) => p.messages }),
    pendingToolCalls: t.field({ type: [ChatToolCallPart], description: 'Calls still unanswered.', resolve: (p) => p.pendingToolCalls }),
  }),
});

const ToolResultInput = builder.inputType('ToolResultInput', {
  fields: (t) => ({
    toolCallId: t.string({ required: true, description: 'A pending tool call of the chat (Chat.pendingToolCalls).' }),
    output: t.field({ type: 'JSON', required: true, description: 'The tool output (any JSON, at most 512 KiB).' }),
    isError: t.boolean({ description: 'The tool failed; output describes the failure. Default false.' }),
  }),
});

const SubmitToolResultsInput = builder.inputType('SubmitToolResultsInput', {
  fields: (t) => ({
    chatId: t.id({ required: true }),
    results: t.field({ type: [ToolResultInput], required: true, description: '1..50 results, each for a different pending tool call.' }),
  }),
});

builder.mutationField('submitToolResults', (t) =>
  t.field({
    type: SubmitToolResultsPayload,
    description:
      'Answer tool calls of a chat in REQUIRES_ACTION. Appends one tool message per result; when none is left pending the chat goes PENDING. ' +
      'Another status, an unknown or already-answered tool call id: ValidationError, nothing written.',
    errors: mutationErrors('submitToolResults', [ChatArchivedError]),
    args: { input: t.arg({ type: SubmitToolResultsInput, required: true }) },
    resolve: (_root, { input }, ctx) => submitToolResults({ chatId: decodeId(String(input.chatId), 'Chat', 'chatId'), results: input.results }, ctx),
  }),
);
