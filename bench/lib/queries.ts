/** The documents a React client sends; the baseline answers the same JSON for each operationName. */

export const HISTORY = `query HistoryPage($roomId: ID!, $before: ID, $limit: Int!) {
  messages(roomId: $roomId, before: $before, limit: $limit) {
    id seq type content metadata clientId createdAt editedAt isEdited isDeleted
    sender { id displayName }
    reactions { reaction count reactedByMe }
  }
}`;

export const INBOX = `query Inbox($pageSize: Int!) {
  rooms(pageSize: $pageSize) {
    total page pageSize pages
    items {
      id type name lastMessageAt memberCount unreadCount
      lastMessage { id seq content createdAt sender { id displayName } }
    }
  }
}`;

export const SEND = `mutation Send($input: SendMessageInput!) {
  sendMessage(input: $input) { id seq content clientId createdAt sender { id displayName } }
}`;

export const ON_MESSAGE = `subscription OnMessage($roomId: ID!) {
  messageAdded(roomId: $roomId) { id seq content createdAt sender { id displayName } }
}`;

export function body(query: string, operationName: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, operationName, variables });
}
