import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './types/User.js';
import './types/Chat.js';
import './types/ChatCostTotals.js';
import './types/ChatCostSummary.js';
import './types/ChatCostUserRollup.js';
import './types/ChatDiffStatus.js';
import './types/ChatMessage.js';
import './types/ChatModelConfig.js';
import './types/ChatQueuedMessage.js';
import './types/ChatQueueChange.js';
import './types/ChatArchivedError.js';
import './types/ForbiddenError.js';
import './types/InvalidModelConfigError.js';
import './types/NotFoundError.js';
import './types/QueueFullError.js';
import './types/ValidationError.js';
import './types/ChatPayload.js';
import './types/RetryChatPayload.js';
import './types/ChatFamilyPayload.js';
import './types/ChatMessagePayload.js';
import './types/SendChatMessagePayload.js';
import './types/ChatWatchEvent.js';
import './types/ChatStreamEvent.js';
import './types/ModelConfigEvent.js';
import './types/AcquireChatsPayload.js';
import './types/HeartbeatChatsPayload.js';
import './types/AppendChatMessagesPayload.js';
import './types/FinishChatRunPayload.js';
import './types/ChatDiffStatusPayload.js';
import './types/ChatModelConfigPayload.js';
import './types/SubmitToolResultsPayload.js';
import './types/CreateChildChatPayload.js';
import './types/RateLimitedError.js';
import './types/PublishChatMessagePartsPayload.js';
import './types/ChatSettledEvent.js';

/** The executable schema built from every type file. */
export const schema: GraphQLSchema = builder.toSchema();

/** SDL of the schema, sorted so diffs show real changes only (written to schema.graphql). */
export function printSortedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
