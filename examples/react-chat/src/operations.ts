import { gql } from '@apollo/client';

/** Every message is read with the same fields, so any source can write it to the cache. */
export const MESSAGE_FIELDS = gql`
  fragment MessageFields on Message {
    id
    seq
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
`;

export const ROOMS = gql`
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
  ${MESSAGE_FIELDS}
`;

/** Newest first; `before` pages back. All pages of a room share one cache list (see cache.ts). */
export const MESSAGES = gql`
  query Messages($roomId: ID!, $before: ID, $limit: Int!) {
    messages(roomId: $roomId, before: $before, limit: $limit) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const CREATE_GROUP = gql`
  mutation CreateGroup($input: CreateGroupChatInput!) {
    createGroupChat(input: $input) { id }
  }
`;

export const SEND = gql`
  mutation Send($input: SendMessageInput!) {
    sendMessage(input: $input) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const EDIT = gql`
  mutation Edit($id: ID!, $content: String!) {
    editMessage(id: $id, content: $content) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const DELETE = gql`
  mutation Delete($id: ID!) {
    deleteMessage(id: $id) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const ADD_REACTION = gql`
  mutation AddReaction($id: ID!, $reaction: String!) {
    addReaction(messageId: $id, reaction: $reaction) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const REMOVE_REACTION = gql`
  mutation RemoveReaction($id: ID!, $reaction: String!) {
    removeReaction(messageId: $id, reaction: $reaction) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const MARK_READ = gql`
  mutation MarkRead($roomId: ID!) {
    markRoomRead(roomId: $roomId) { id lastReadAt }
  }
`;

export const SET_TYPING = gql`
  mutation SetTyping($roomId: ID!, $isTyping: Boolean!) {
    setTyping(roomId: $roomId, isTyping: $isTyping)
  }
`;

/** Without roomId: every room I am in (keeps the room list live). */
export const MESSAGE_ADDED_ANYWHERE = gql`
  subscription MessageAddedAnywhere {
    messageAdded { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

/** One room, replaying what came after `since` first: how a reconnect resumes. */
export const MESSAGE_ADDED_IN_ROOM = gql`
  subscription MessageAddedInRoom($roomId: ID!, $since: ID) {
    messageAdded(roomId: $roomId, since: $since) { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const MESSAGE_UPDATED = gql`
  subscription MessageUpdated {
    messageUpdated { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

export const MEMBERSHIP_CHANGED = gql`
  subscription MembershipChanged {
    membershipChanged { kind room { id } }
  }
`;

export const TYPING = gql`
  subscription Typing($roomId: ID!) {
    typing(roomId: $roomId) { isTyping at user { id displayName } }
  }
`;

export interface ChatMessage {
  id: string;
  seq: number;
  type: string;
  content: string | null;
  clientId: string | null;
  createdAt: string;
  isEdited: boolean;
  isDeleted: boolean;
  room: { id: string };
  sender: { id: string; displayName: string | null } | null;
  reactions: { reaction: string; count: number; reactedByMe: boolean }[];
}

export interface ChatRoom {
  id: string;
  name: string | null;
  type: 'DIRECT' | 'GROUP';
  createdAt: string;
  lastMessageAt: string | null;
  unreadCount: number;
  members: { id: string; user: { id: string; displayName: string | null } }[];
  lastMessage: ChatMessage | null;
}
