import { graphql } from './graphql';

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

/** What the sidebar and the chat header show; the live streams select the same fields. */
export const ChatSummaryFields = graphql(`
  fragment ChatSummaryFields on Chat {
    id
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
    queuedMessages { ...QueuedFields }
  }
`, [QueuedFields]);

export const MessageFields = graphql(`
  fragment MessageFields on ChatMessage {
    id
    role
    createdAt
    totalCostMicros
    modelConfig { id displayName }
    usage { inputTokens outputTokens }
    parts {
      __typename
      ... on ChatTextPart { text }
      ... on ChatReasoningPart { text }
      ... on ChatToolCallPart { toolCallId toolName args }
      ... on ChatToolResultPart { toolCallId toolName result isError }
      ... on ChatSourcePart { url title }
      ... on ChatFilePart { fileId mediaType name }
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
        ...ChatSummaryFields
        children { ...ChatSummaryFields }
      }
    }
  }
`, [ChatSummaryFields]);

export const ChatViewQuery = graphql(`
  query ChatView($id: ID!) {
    chat(id: $id) {
      ...ChatSummaryFields
      messages(last: 100) { nodes { ...MessageFields } }
    }
    modelConfigs { id displayName isDefault }
  }
`, [ChatSummaryFields, MessageFields]);

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
      occurredAt
      chat { ...ChatSummaryFields children { ...ChatSummaryFields } }
    }
  }
`, [ChatSummaryFields]);

export const ChatEventsSubscription = graphql(`
  subscription ChatEvents($chatId: ID!, $after: String) {
    chatEvents(chatId: $chatId, after: $after) {
      cursor
      kind
      occurredAt
      chat { ...ChatSummaryFields }
      message { ...MessageFields }
      queuedMessages { ...QueuedFields }
    }
  }
`, [ChatSummaryFields, MessageFields, QueuedFields]);


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
