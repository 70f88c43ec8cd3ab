import { graphql } from './graphql.js';

// Every operation of the dashboard and the watcher. Field names come from ../schema.graphql;
// a renamed or removed field fails `npm run typecheck`.

export const QueuedFields = graphql(`
  fragment QueuedFields on ChatQueuedMessage {
    id
    createdAt
    modelConfig { id displayName }
    parts { __typename ... on ChatTextPart { text } }
  }
`);

/**
 * A sidebar row (and what chatWatch carries): kept small, because the gateway's cost limit
 * multiplies a list's selection by its page size.
 */
export const ChatListFields = graphql(`
  fragment ChatListFields on Chat {
    id
    version
    title
    status
    archived
    updatedAt
    hasUnread
    parent { id }
    lastModelConfig { id displayName }
    diffStatus { pullRequestState pullRequestDraft }
    queuedMessages { id }
  }
`);

/**
 * What the chat view shows of the chat itself, its queue apart. chatEvents carries exactly this:
 * a queue change arrives as the event's `queueChange` (what it added, updated and removed), not
 * as the whole queue in every event (see liveMerge.ts, applyQueueChange).
 */
export const ChatStateFields = graphql(`
  fragment ChatStateFields on Chat {
    id
    version
    title
    status
    archived
    lastError
    updatedAt
    lastTurnSummary
    hasUnread
    parent { id }
    lastModelConfig { id displayName }
    diffStatus {
      url
      prNumber
      pullRequestState
      pullRequestDraft
      pullRequestTitle
      headBranch
      baseBranch
      additions
      deletions
      changedFiles
    }
  }
`);

/** What the chat view shows: the chat and its whole queue (queries and mutations select it). */
export const ChatSummaryFields = graphql(`
  fragment ChatSummaryFields on Chat {
    ...ChatStateFields
    queuedMessages { ...QueuedFields }
  }
`, [ChatStateFields, QueuedFields]);

/** One transcript message. Lean on purpose: the transcript page multiplies it (cost limit). */
export const MessageFields = graphql(`
  fragment MessageFields on ChatMessage {
    id
    role
    createdAt
    totalCostMicros
    modelConfig { displayName }
    parts {
      __typename
      ... on ChatTextPart { text }
      ... on ChatReasoningPart { text }
      ... on ChatToolCallPart { toolName args }
      ... on ChatToolResultPart { toolName result isError }
      ... on ChatSourcePart { url title }
      ... on ChatFilePart { mediaType name }
      ... on ChatFileReferencePart { fileName startLine endLine content }
      ... on ChatContextFilePart { path truncated }
    }
  }
`);

export const ViewerQuery = graphql(`
  query Viewer { viewer { id username name } }
`);

export const SidebarQuery = graphql(`
  query Sidebar($archived: Boolean, $after: String) {
    chats(first: 20, after: $after, archived: $archived) {
      pageInfo { hasNextPage endCursor }
      nodes {
        ...ChatListFields
        children { ...ChatListFields }
      }
    }
  }
`, [ChatListFields]);

export const ChatViewQuery = graphql(`
  query ChatView($id: ID!) {
    chat(id: $id) { ...ChatSummaryFields }
    modelConfigs { id displayName isDefault }
  }
`, [ChatSummaryFields]);

/**
 * The transcript, newest page first; `before` loads earlier pages (merged by relay pagination).
 * The message fields are spelled out instead of spreading MessageFields: the gateway's cost
 * limit charges every fragment level once per message of the page. test/documents.test.ts
 * keeps the two selections equal.
 */
export const ChatMessagesQuery = graphql(`
  query ChatMessages($id: ID!, $before: String) {
    chat(id: $id) {
      id
      messages(last: 25, before: $before) {
        pageInfo { hasPreviousPage startCursor }
        nodes {
          id
          role
          createdAt
          totalCostMicros
          modelConfig { displayName }
          parts {
            __typename
            ... on ChatTextPart { text }
            ... on ChatReasoningPart { text }
            ... on ChatToolCallPart { toolName args }
            ... on ChatToolResultPart { toolName result isError }
            ... on ChatSourcePart { url title }
            ... on ChatFilePart { mediaType name }
            ... on ChatFileReferencePart { fileName startLine endLine content }
            ... on ChatContextFilePart { path truncated }
          }
        }
      }
    }
  }
`);

export const CostQuery = graphql(`
  query Cost($startDate: DateTime, $endDate: DateTime) {
    costSummary(startDate: $startDate, endDate: $endDate) {
      startDate
      endDate
      totalCostMicros
      totalInputTokens
      totalOutputTokens
      totalCacheReadTokens
      totalCacheCreationTokens
      messageCount
      unpricedMessageCount
      byModel { modelConfigId displayName provider messageCount totals { totalCostMicros totalInputTokens totalOutputTokens } }
      byChat { rootChatId chatTitle messageCount totals { totalCostMicros totalInputTokens totalOutputTokens } }
    }
  }
`);

export const ChatWatchSubscription = graphql(`
  subscription ChatWatch($after: String) {
    chatWatch(after: $after) {
      cursor
      kind
      version
      occurredAt
      chat { ...ChatListFields children { ...ChatListFields } }
    }
  }
`, [ChatListFields]);

/**
 * One chat's events. The chat snapshot leaves the queue out, and QUEUE_UPDATE brings the small
 * form, `queueChange`: the messages it added and updated, the ids it removed and the new length,
 * so an event stays the size of its change however long the queue. (The event's `queuedMessages`,
 * the whole queue, stays in the schema for compatibility; this client does not select it.)
 */
export const ChatEventsSubscription = graphql(`
  subscription ChatEvents($chatId: ID!, $after: String) {
    chatEvents(chatId: $chatId, after: $after) {
      cursor
      kind
      version
      occurredAt
      chat { ...ChatStateFields }
      message { ...MessageFields }
      queueChange {
        added { ...QueuedFields }
        updated { ...QueuedFields }
        removedIds
        length
      }
      child { ...ChatListFields }
      attempt
      seq
      parts { type text argsDelta toolCallId toolName }
    }
  }
`, [ChatStateFields, ChatListFields, MessageFields, QueuedFields]);


export const SendMessageMutation = graphql(`
  mutation SendMessage($input: SendChatMessageInput!) {
    sendChatMessage(input: $input) {
      __typename
      ... on Error { error: message }
      ... on SendChatMessagePayload {
        queued
        chat { ...ChatSummaryFields }
        message { ...MessageFields }
        queuedMessage { ...QueuedFields }
      }
    }
  }
`, [ChatSummaryFields, MessageFields, QueuedFields]);

export const PromoteQueuedMutation = graphql(`
  mutation PromoteQueued($input: PromoteQueuedMessageInput!) {
    promoteQueuedMessage(input: $input) {
      __typename
      ... on Error { error: message }
      ... on ChatMessagePayload { chat { ...ChatSummaryFields } message { ...MessageFields } }
    }
  }
`, [ChatSummaryFields, MessageFields]);

export const DeleteQueuedMutation = graphql(`
  mutation DeleteQueued($input: DeleteQueuedMessageInput!) {
    deleteQueuedMessage(input: $input) {
      __typename
      ... on Error { error: message }
      ... on ChatPayload { chat { ...ChatSummaryFields } }
    }
  }
`, [ChatSummaryFields]);

export const ArchiveMutation = graphql(`
  mutation Archive($input: ArchiveChatInput!) {
    archiveChat(input: $input) {
      __typename
      ... on Error { error: message }
      ... on ChatFamilyPayload { chat { ...ChatSummaryFields } changedChats { id archived status updatedAt } }
    }
  }
`, [ChatSummaryFields]);

export const UnarchiveMutation = graphql(`
  mutation Unarchive($input: UnarchiveChatInput!) {
    unarchiveChat(input: $input) {
      __typename
      ... on Error { error: message }
      ... on ChatFamilyPayload { chat { ...ChatSummaryFields } changedChats { id archived status updatedAt } }
    }
  }
`, [ChatSummaryFields]);

export const MarkReadMutation = graphql(`
  mutation MarkRead($input: MarkChatReadInput!) {
    markChatRead(input: $input) {
      __typename
      ... on Error { error: message }
      ... on ChatPayload { chat { id hasUnread } }
    }
  }
`);
