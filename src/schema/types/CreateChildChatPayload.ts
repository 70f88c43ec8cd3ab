import { InvalidModelConfigError } from '../../resolvers/errors.js';
import { createChildChat } from '../../resolvers/subAgents.js';
import type { ChatRow, MessageRow } from '../../db/models.js';
import { builder } from '../builder.js';
import { decodeId } from '../globalIds.js';
import { mutationErrors } from '../mutationErrors.js';
import { Chat } from './Chat.js';
import { ChatInputPart } from './ChatInputPart.js';
import { ChatMessage } from './ChatMessage.js';

/** A new sub-agent chat and its first message. */
export const CreateChildChatPayload = builder.objectRef<{ chat: ChatRow; parent: ChatRow; message: MessageRow }>('CreateChildChatPayload').implement({
  fields: (t) => ({
    chat: t.field({ type: Chat, description: 'The child, PENDING.', resolve: (p) => p.chat }),
    parent: t.field({ type: Chat, resolve: (p) => p.parent }),
    message: t.field({ type: ChatMessage, description: 'The first user message of the child.', resolve: (p) => p.message }),
  }),
});

const CreateChildChatInput = builder.inputType('CreateChildChatInput', {
  fields: (t) => ({
    parentChatId: t.id({ required: true, description: 'A chat this worker is running.' }),
    workerId: t.string({ required: true }),
    content: t.field({ type: [ChatInputPart], required: true, description: "The child's first user message (its task)." }),
    title: t.string({ description: 'Default "Sub-agent".' }),
    modelConfigId: t.id({ description: "The child's model; default: the parent's last model, then the default config." }),
  }),
});

builder.mutationField('createChildChat', (t) =>
  t.field({
    type: CreateChildChatPayload,
    description:
      'Worker: spawn a sub-agent under a chat it runs. The child is PENDING, belongs to the parent\'s owner and names the family root; ' +
      'nesting is limited (see docs/worker-protocol.md). Wait for it with chatsSettled.',
    authScopes: { worker: true },
    errors: mutationErrors('createChildChat', [InvalidModelConfigError]),
    args: { input: t.arg({ type: CreateChildChatInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      createChildChat(
        {
          ...input,
          parentChatId: decodeId(String(input.parentChatId), 'Chat', 'parentChatId'),
          modelConfigId: input.modelConfigId != null ? decodeId(String(input.modelConfigId), 'ChatModelConfig', 'modelConfigId') : null,
        },
        ctx,
      ),
  }),
);
