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

/**
 * The noisy scenario's attacks of issue 17, as the outside probe sent them.
 * F2: a 100-word query (the word 'a', which every one of the room's 2,000-word
 * messages says 2,000 times), 100 hits, under `aliases` aliases in one request.
 */
export function searchAttack(aliases: number): string {
  const one = (k: number) => `s${k}: searchMessages(query: $q, limit: 100) { snippet }`;
  return `query SearchAttack($q: String!) {\n  ${Array.from({ length: aliases }, (_, k) => one(k)).join('\n  ')}\n}`;
}
export const SEARCH_ATTACK_QUERY = Array(100).fill('a').join(' ');
/** "A few aliases" of F2's search in one request, as the probe (and test/search.test.ts) sent it. */
export const SEARCH_ATTACK_ALIASES = 3;
/** F3's aliased readBy fields: 19, under the limit of 20 aliases per document. */
export const READBY_ATTACK_ALIASES = 19;

/** F3: a history page of 200 messages, each with its read count and `aliases` aliased first readers. */
export function readByAttack(aliases: number): string {
  const readers = Array.from({ length: aliases }, (_, k) => `r${k}: readBy(limit: 1) { id }`).join(' ');
  return `query ReadByAttack($roomId: ID!) {\n  messages(roomId: $roomId, limit: 200) { id readCount ${readers} }\n}`;
}

/**
 * F4: a room's members in a messageAdded subscription; `variant` makes the text
 * distinct (an alias of `content`), `limit` null: the default page (100).
 */
export function membersAttack(variant: number, limit: number | null): string {
  return `subscription MembersAttack($roomId: ID!) {
  messageAdded(roomId: $roomId) {
    id m${variant}: content
    room { members${limit === null ? '' : `(limit: ${limit})`} { id user { id displayName } } }
  }
}`;
}

/** F6: messageAdded replaying the room from `since`. */
export const REPLAY_ATTACK = `subscription ReplayAttack($roomId: ID!, $since: ID) {
  messageAdded(roomId: $roomId, since: $since) { id seq content createdAt sender { id displayName } }
}`;

export function body(query: string, operationName: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, operationName, variables });
}

/** A send into send room `room`, its clientId left for the load generator to fill in (`uniqueClientId`). */
export const sendBody = (room: number) => body(SEND, 'Send', { input: { roomId: ROOMS.send(room), content: 'A message from the send benchmark', clientId: '__CLIENT_ID__' } });
