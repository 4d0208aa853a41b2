/** The documents a React client sends; the baseline answers the same JSON for each operationName. */
import { ROOMS } from './seed';

export const HISTORY = `query HistoryPage($roomId: ID!, $before: ID, $limit: Int!) {
  messages(roomId: $roomId, before: $before, limit: $limit) {
    id seq type content metadata clientId createdAt editedAt isEdited isDeleted
    replyCount pinnedAt readCount
    sender { id displayName }
    mentions { id displayName }
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

export const SEARCH = `query Search($query: String!, $limit: Int!) {
  searchMessages(query: $query, limit: $limit) {
    snippet
    message { id seq content createdAt sender { id displayName } }
  }
}`;

export const CHANGES = `query Changes($since: String, $limit: Int!) {
  changes(since: $since, limit: $limit) {
    cursor hasMore
    messages { id seq content isDeleted editedAt version reactions { reaction count } }
    memberships { id role isActive }
  }
}`;

export const EDIT = `mutation Edit($id: ID!, $content: String!) {
  editMessage(id: $id, content: $content) { id version }
}`;

/**
 * The noisy scenario's subscription: per-viewer fields (unreadCount, myMembership,
 * reactedByMe), so it is executed for its user, not shared with other users.
 * `variant` null: the one text every identical subscription sends; a number: the
 * same selection with `content` under an alias of its own (a distinct subscription).
 */
export function noisySubscription(variant: number | null): string {
  const content = variant === null ? 'content' : `c${variant}: content`;
  return `subscription Noisy($roomId: ID!) {
  messageUpdated(roomId: $roomId) {
    id ${content}
    room { unreadCount myMembership { role } members { id } }
    reactions { reaction count reactedByMe }
  }
}`;
}

export function body(query: string, operationName: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, operationName, variables });
}

/** A send into send room `room`, its clientId left for the load generator to fill in (`uniqueClientId`). */
export const sendBody = (room: number) => body(SEND, 'Send', { input: { roomId: ROOMS.send(room), content: 'A message from the send benchmark', clientId: '__CLIENT_ID__' } });
