import type { Context } from '../context.js';
import type { ChatRow, MessageRow } from '../db/models.js';
import { ValidationError } from './errors.js';
import { contentFromInput, titleFromInput, type ChatInputPart } from './inputs.js';
import { resolveModelConfig } from './models.js';
import { lockOwnedRun, workerIdFromInput } from './runs.js';
import { remember } from './userMutations.js';

/**
 * Sub-agents: a worker running a chat spawns child chats under it. A child belongs to the
 * parent's owner, starts PENDING (any worker may acquire it), and names the family's root, so
 * cost, children and archive cover the whole tree. Nesting is bounded.
 */

/** A root has depth 0; a child at most this depth (so at most this many levels of sub-agents). */
export const MAX_CHAT_DEPTH = 4;
/** At most this many children per chat. */
export const MAX_CHILDREN_PER_CHAT = 50;

export interface CreateChildChatInput {
  parentChatId: string;
  workerId: string;
  content: readonly ChatInputPart[];
  title?: string | null;
  modelConfigId?: string | null;
}

/**
 * Creates a child chat under a chat the worker is running, with its first user message, in one
 * transaction. The ancestry walk goes up the parent chain one level per lookup (O(depth)) and
 * stops at a cycle or past MAX_CHAT_DEPTH. The model is the explicit one, else the parent's.
 */
export async function createChildChat(input: CreateChildChatInput, ctx: Context): Promise<{ chat: ChatRow; parent: ChatRow; message: MessageRow }> {
  const workerId = workerIdFromInput(input.workerId);
  const content = contentFromInput(input.content);
  const title = input.title != null ? titleFromInput(input.title) : 'Sub-agent';
  const result = await ctx.db.tx('createChildChat', async (t) => {
    const parent = await lockOwnedRun(t, input.parentChatId, workerId);
    const ancestry = await t.chats.ancestry(parent.id, MAX_CHAT_DEPTH);
    if (ancestry?.cycle) throw new ValidationError(`The ancestry of chat ${parent.id} has a cycle; refusing to nest under it`, 'parentChatId');
    if (!ancestry || ancestry.tooDeep || ancestry.depth + 1 > MAX_CHAT_DEPTH) {
      throw new ValidationError(`Sub-agents nest at most ${MAX_CHAT_DEPTH} levels below their root`, 'parentChatId');
    }
    if ((await t.chats.childCount(parent.id)) >= MAX_CHILDREN_PER_CHAT) {
      throw new ValidationError(`A chat has at most ${MAX_CHILDREN_PER_CHAT} sub-agents`, 'parentChatId');
    }
    const model = await resolveModelConfig(t, input.modelConfigId ?? null, parent.last_model_config_id);
    const chat = await t.chats.create({
      ownerId: parent.owner_id,
      title,
      workspaceId: parent.workspace_id,
      labels: {},
      modelConfigId: model.id,
      status: 'pending',
      parentChatId: parent.id,
      rootChatId: parent.root_chat_id ?? parent.id,
    });
    const [message] = await t.messages.insert(chat.id, [{ role: 'user', visibility: 'both', content, model_config_id: model.id, created_by: null }], model.id);
    return { chat, parent, message: message! };
  });
  remember(ctx, result.chat, result.parent);
  return result;
}
