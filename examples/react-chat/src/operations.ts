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
        members { id user { id displayName } }
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
    lastMessage { ...MessageFields }
  }
`);

/** Newest first; `before` pages back. All pages of a room share one cache list (see cache.ts). */
export const MESSAGES = graphql(`
  query Messages($roomId: ID!, $before: ID, $limit: Int!) {
    messages(roomId: $roomId, before: $before, limit: $limit) { ...MessageFields }
  }
`);

/** Newest first; the snippet is HTML-escaped by the server, with the matches in <mark>. */
export const SEARCH_MESSAGES = graphql(`
  query SearchMessages($query: String!, $limit: Int) {
    searchMessages(query: $query, limit: $limit) {
      snippet
      message { ...MessageFields }
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
    sendMessage(input: $input) { ...MessageFields }
  }
`);

export const EDIT = graphql(`
  mutation Edit($id: ID!, $content: String!) {
    editMessage(id: $id, content: $content) { ...MessageFields }
  }
`);

export const DELETE = graphql(`
  mutation Delete($id: ID!) {
    deleteMessage(id: $id) { ...MessageFields }
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

export type ChatMessage = MessageFieldsFragment;
export type ChatRoom = RoomsQuery['rooms']['items'][number];
export type SearchHit = SearchMessagesQuery['searchMessages'][number];
