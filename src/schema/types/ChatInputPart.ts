import { builder } from '../builder.js';

/** Kinds of content a user may send. */
export const ChatInputPartType = builder.enumType('ChatInputPartType', {
  values: ['TEXT', 'FILE', 'FILE_REFERENCE'] as const,
});

/** One part of a user message (limits: 50 parts, 256 KiB of content). */
export const ChatInputPart = builder.inputType('ChatInputPart', {
  fields: (t) => ({
    type: t.field({ type: ChatInputPartType, required: true }),
    text: t.string({ description: 'TEXT: the text.' }),
    fileId: t.string({ description: 'FILE: an uploaded file id.' }),
    mediaType: t.string({ description: 'FILE: its media type.' }),
    fileName: t.string({ description: 'FILE: display name; FILE_REFERENCE: the path.' }),
    startLine: t.int(),
    endLine: t.int(),
    content: t.string({ description: 'FILE_REFERENCE: the referenced lines.' }),
  }),
});
