import { graphql } from './gql';
import type { MessageFieldsFragment, RoomsQuery, SearchMessagesQuery } from './gql/graphql';

/*
 * Every document of the app. `npm run codegen` reads them (with the API's
 * schema.graphql) and writes their result and variable types to src/gql/, so
 * useQuery, useMutation and client.subscribe are typed from these documents.
 */

/**
 * Every message is read with the same fields, so any source can write it to the
 * cache; `version` is what a reconnect catches up from.
 */
export const MESSAGE_FIELDS = graphql(`
  fragment MessageFields on Message {
    id
    seq
    version
    type
    content
    clientId
    createdAt
    isEdited
    isDeleted
    room { id }
    sender { id displayName }
    reactions { reaction count reactedByMe }
    parent { id }
    alsoInRoom
    replyCount
    lastReplyAt
    threadParticipants { id displayName }
    mentions { id displayName }
    pinnedAt
    pinnedBy { id displayName }
    edits { content replacedAt }
  }
`);

/**
 * A message's files, with download URLs that last 15 minutes. Not in
 * MessageFields: files never change after the send, and subscriptions (whose
 * cost per user is bounded) need not carry them; they come with the history,
 * thread and search pages and the send's result, and otherwise per message
 * (MESSAGE_ATTACHMENTS).
 */
export const ATTACHMENT_FIELDS = graphql(`
  fragment MessageAttachments on Message {
    attachments { id filename contentType size url width height }
  }
`);

export const ROOMS = graphql(`
  query Rooms {
    rooms(pageSize: 50) {
      items {
        id
        name
        type
        createdAt
        lastMessageAt
        unreadCount
        unreadMentionCount
        members { id role user { id displayName online } }
        lastMessage { ...MessageFields }
      }
    }
  }
`);

/** What a live message changes in the room list. */
export const ROOM_LIVE = graphql(`
  fragment RoomLive on Room {
    lastMessageAt
    unreadCount
    unreadMentionCount
    lastMessage { ...MessageFields }
  }
`);

/** Newest first; `before` pages back. All pages of a room share one cache list (see cache.ts). */
export const MESSAGES = graphql(`
  query Messages($roomId: ID!, $before: ID, $limit: Int!) {
    messages(roomId: $roomId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }
  }
`);

/** Replies to a thread root, newest first; `before` pages back. Every page of a thread shares one cache list (see cache.ts). */
export const THREAD = graphql(`
  query Thread($parentId: ID!, $before: ID, $limit: Int!) {
    thread(parentId: $parentId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }
  }
`);

/** One message; read from the cache when it is there (see cache.ts), so a thread root already shown costs nothing. */
export const MESSAGE = graphql(`
  query Message($id: ID!) {
    message(id: $id) { ...MessageFields }
  }
`);

/**
 * Who has read a message. Not in MessageFields: reading sends a readReceipt,
 * not a messageUpdated, so these would go stale in every other source; they
 * are read for the one message that shows them.
 */
export const SEEN_BY = graphql(`
  query SeenBy($id: ID!) {
    message(id: $id) { id readCount readBy(limit: 5) { id displayName } }
  }
`);

/** Most recently pinned first; kept current from messageUpdated (see cache.ts). */
export const PINNED_MESSAGES = graphql(`
  query PinnedMessages($roomId: ID!) {
    room(id: $roomId) { id pinnedMessages { ...MessageFields } }
  }
`);

/** Newest first; the snippet is HTML-escaped by the server, with the matches in <mark>. */
export const SEARCH_MESSAGES = graphql(`
  query SearchMessages($query: String!, $limit: Int) {
    searchMessages(query: $query, limit: $limit) {
      snippet
      message { ...MessageFields ...MessageAttachments }
    }
  }
`);

/** What changed in my rooms after `since` (a version or a previous cursor), oldest change first. */
export const CHANGES = graphql(`
  query Changes($since: String, $limit: Int) {
    changes(since: $since, limit: $limit) {
      cursor
      hasMore
      messages { ...MessageFields }
    }
  }
`);

export const CREATE_GROUP = graphql(`
  mutation CreateGroup($input: CreateGroupChatInput!) {
    createGroupChat(input: $input) { id }
  }
`);

export const SEND = graphql(`
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) { ...MessageFields ...MessageAttachments }
  }
`);

/** One message's files (fresh URLs); read from the cache when a page brought them (see cache.ts). */
export const MESSAGE_ATTACHMENTS = graphql(`
  query MessageAttachments($id: ID!) {
    message(id: $id) { id ...MessageAttachments }
  }
`);

/** Reserves a file of the room; its bytes go to uploadUrl (Attachments.tsx). */
export const CREATE_UPLOAD = graphql(`
  mutation CreateUpload($roomId: ID!, $filename: String!, $contentType: String!, $size: Int!) {
    createUpload(roomId: $roomId, filename: $filename, contentType: $contentType, size: $size) { attachmentId uploadUrl method headers expiresAt }
  }
`);

export const EDIT = graphql(`
  mutation Edit($id: ID!, $content: String!, $mentionIds: [ID!]) {
    editMessage(id: $id, content: $content, mentionIds: $mentionIds) { ...MessageFields }
  }
`);

export const DELETE = graphql(`
  mutation Delete($id: ID!) {
    deleteMessage(id: $id) { ...MessageFields }
  }
`);

export const PIN = graphql(`
  mutation Pin($id: ID!) {
    pinMessage(id: $id) { ...MessageFields }
  }
`);

export const UNPIN = graphql(`
  mutation Unpin($id: ID!) {
    unpinMessage(id: $id) { ...MessageFields }
  }
`);

export const ADD_REACTION = graphql(`
  mutation AddReaction($id: ID!, $reaction: String!) {
    addReaction(messageId: $id, reaction: $reaction) { ...MessageFields }
  }
`);

export const REMOVE_REACTION = graphql(`
  mutation RemoveReaction($id: ID!, $reaction: String!) {
    removeReaction(messageId: $id, reaction: $reaction) { ...MessageFields }
  }
`);

export const MARK_READ = graphql(`
  mutation MarkRead($roomId: ID!) {
    markRoomRead(roomId: $roomId) { id lastReadAt }
  }
`);

export const SET_TYPING = graphql(`
  mutation SetTyping($roomId: ID!, $isTyping: Boolean!) {
    setTyping(roomId: $roomId, isTyping: $isTyping)
  }
`);

/** Without roomId: every room I am in (keeps the room list live). */
export const MESSAGE_ADDED_ANYWHERE = graphql(`
  subscription MessageAddedAnywhere {
    messageAdded { ...MessageFields }
  }
`);

/** One room, replaying what came after `since` first: how a reconnect resumes. */
export const MESSAGE_ADDED_IN_ROOM = graphql(`
  subscription MessageAddedInRoom($roomId: ID!, $since: ID) {
    messageAdded(roomId: $roomId, since: $since) { ...MessageFields }
  }
`);

/** Edits, deletions and reactions in every room I am in; with `since`, the changes after it first. */
export const MESSAGE_UPDATED = graphql(`
  subscription MessageUpdated($since: String) {
    messageUpdated(since: $since) { ...MessageFields }
  }
`);

export const MEMBERSHIP_CHANGED = graphql(`
  subscription MembershipChanged {
    membershipChanged { kind room { id } }
  }
`);

export const TYPING = graphql(`
  subscription Typing($roomId: ID!) {
    typing(roomId: $roomId) { isTyping at user { id displayName } }
  }
`);

/** A member's read position moving forward in one room. */
export const READ_RECEIPT = graphql(`
  subscription ReadReceipt($roomId: ID!) {
    readReceipt(roomId: $roomId) { lastReadAt user { id displayName } }
  }
`);

/** Members of one room coming online and going offline; the user's fields land in the cache by id. */
export const PRESENCE_CHANGED = graphql(`
  subscription PresenceChanged($roomId: ID!) {
    presenceChanged(roomId: $roomId) { online user { id online lastSeenAt } }
  }
`);

export type ChatMessage = MessageFieldsFragment;
export type ChatRoom = RoomsQuery['rooms']['items'][number];
export type SearchHit = SearchMessagesQuery['searchMessages'][number];
export type ChatMember = ChatRoom['members'][number];
