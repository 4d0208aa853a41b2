/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query RoomModeration($roomId: ID!) {\n    room(id: $roomId) {\n      id\n      type\n      slowModeSeconds\n      myMembership { id role mutedUntil }\n      members(limit: 100) { id role mutedUntil user { id displayName } }\n    }\n  }\n": typeof types.RoomModerationDocument,
    "\n  mutation MuteMember($roomId: ID!, $userId: ID!, $until: DateTime) {\n    muteMember(roomId: $roomId, userId: $userId, until: $until) { id mutedUntil }\n  }\n": typeof types.MuteMemberDocument,
    "\n  mutation UnmuteMember($roomId: ID!, $userId: ID!) {\n    unmuteMember(roomId: $roomId, userId: $userId) { id mutedUntil }\n  }\n": typeof types.UnmuteMemberDocument,
    "\n  mutation BanMember($roomId: ID!, $userId: ID!) {\n    banMember(roomId: $roomId, userId: $userId)\n  }\n": typeof types.BanMemberDocument,
    "\n  mutation SetSlowMode($roomId: ID!, $seconds: Int!) {\n    setSlowMode(roomId: $roomId, seconds: $seconds) { id slowModeSeconds }\n  }\n": typeof types.SetSlowModeDocument,
    "\n  fragment MessageFields on Message {\n    id\n    seq\n    version\n    type\n    content\n    clientId\n    createdAt\n    isEdited\n    isDeleted\n    room { id }\n    sender { id displayName }\n    reactions { reaction count reactedByMe }\n    parent { id }\n    alsoInRoom\n    replyCount\n    lastReplyAt\n    threadParticipants { id displayName }\n    mentions { id displayName }\n    pinnedAt\n    pinnedBy { id displayName }\n    edits { content replacedAt }\n  }\n": typeof types.MessageFieldsFragmentDoc,
    "\n  fragment MessageAttachments on Message {\n    attachments { id filename contentType size url width height }\n  }\n": typeof types.MessageAttachmentsFragmentDoc,
    "\n  query Rooms {\n    rooms(pageSize: 50) {\n      items {\n        id\n        name\n        type\n        createdAt\n        lastMessageAt\n        unreadCount\n        unreadMentionCount\n        members { id role user { id displayName online } }\n        lastMessage { ...MessageFields }\n      }\n    }\n  }\n": typeof types.RoomsDocument,
    "\n  fragment RoomLive on Room {\n    lastMessageAt\n    unreadCount\n    unreadMentionCount\n    lastMessage { ...MessageFields }\n  }\n": typeof types.RoomLiveFragmentDoc,
    "\n  query Messages($roomId: ID!, $before: ID, $limit: Int!) {\n    messages(roomId: $roomId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n": typeof types.MessagesDocument,
    "\n  query Thread($parentId: ID!, $before: ID, $limit: Int!) {\n    thread(parentId: $parentId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n": typeof types.ThreadDocument,
    "\n  query Message($id: ID!) {\n    message(id: $id) { ...MessageFields }\n  }\n": typeof types.MessageDocument,
    "\n  query SeenBy($id: ID!) {\n    message(id: $id) { id readCount readBy(limit: 5) { id displayName } }\n  }\n": typeof types.SeenByDocument,
    "\n  query PinnedMessages($roomId: ID!) {\n    room(id: $roomId) { id pinnedMessages { ...MessageFields } }\n  }\n": typeof types.PinnedMessagesDocument,
    "\n  query SearchMessages($query: String!, $limit: Int) {\n    searchMessages(query: $query, limit: $limit) {\n      snippet\n      message { ...MessageFields ...MessageAttachments }\n    }\n  }\n": typeof types.SearchMessagesDocument,
    "\n  query Changes($since: String, $limit: Int) {\n    changes(since: $since, limit: $limit) {\n      cursor\n      hasMore\n      messages { ...MessageFields }\n    }\n  }\n": typeof types.ChangesDocument,
    "\n  mutation CreateGroup($input: CreateGroupChatInput!) {\n    createGroupChat(input: $input) { id }\n  }\n": typeof types.CreateGroupDocument,
    "\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { ...MessageFields ...MessageAttachments }\n  }\n": typeof types.SendDocument,
    "\n  query MessageAttachments($id: ID!) {\n    message(id: $id) { id ...MessageAttachments }\n  }\n": typeof types.MessageAttachmentsDocument,
    "\n  mutation CreateUpload($roomId: ID!, $filename: String!, $contentType: String!, $size: Int!) {\n    createUpload(roomId: $roomId, filename: $filename, contentType: $contentType, size: $size) { attachmentId uploadUrl method headers expiresAt }\n  }\n": typeof types.CreateUploadDocument,
    "\n  mutation Edit($id: ID!, $content: String!, $mentionIds: [ID!]) {\n    editMessage(id: $id, content: $content, mentionIds: $mentionIds) { ...MessageFields }\n  }\n": typeof types.EditDocument,
    "\n  mutation Delete($id: ID!) {\n    deleteMessage(id: $id) { ...MessageFields }\n  }\n": typeof types.DeleteDocument,
    "\n  mutation Pin($id: ID!) {\n    pinMessage(id: $id) { ...MessageFields }\n  }\n": typeof types.PinDocument,
    "\n  mutation Unpin($id: ID!) {\n    unpinMessage(id: $id) { ...MessageFields }\n  }\n": typeof types.UnpinDocument,
    "\n  mutation AddReaction($id: ID!, $reaction: String!) {\n    addReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n": typeof types.AddReactionDocument,
    "\n  mutation RemoveReaction($id: ID!, $reaction: String!) {\n    removeReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n": typeof types.RemoveReactionDocument,
    "\n  mutation MarkRead($roomId: ID!) {\n    markRoomRead(roomId: $roomId) { id lastReadAt }\n  }\n": typeof types.MarkReadDocument,
    "\n  mutation SetTyping($roomId: ID!, $isTyping: Boolean!) {\n    setTyping(roomId: $roomId, isTyping: $isTyping)\n  }\n": typeof types.SetTypingDocument,
    "\n  subscription MessageAddedAnywhere {\n    messageAdded { ...MessageFields }\n  }\n": typeof types.MessageAddedAnywhereDocument,
    "\n  subscription MessageAddedInRoom($roomId: ID!, $since: ID) {\n    messageAdded(roomId: $roomId, since: $since) { ...MessageFields }\n  }\n": typeof types.MessageAddedInRoomDocument,
    "\n  subscription MessageUpdated($since: String) {\n    messageUpdated(since: $since) { ...MessageFields }\n  }\n": typeof types.MessageUpdatedDocument,
    "\n  subscription MembershipChanged {\n    membershipChanged { kind room { id } }\n  }\n": typeof types.MembershipChangedDocument,
    "\n  subscription Typing($roomId: ID!) {\n    typing(roomId: $roomId) { isTyping at user { id displayName } }\n  }\n": typeof types.TypingDocument,
    "\n  subscription ReadReceipt($roomId: ID!) {\n    readReceipt(roomId: $roomId) { lastReadAt user { id displayName } }\n  }\n": typeof types.ReadReceiptDocument,
    "\n  subscription PresenceChanged($roomId: ID!) {\n    presenceChanged(roomId: $roomId) { online user { id online lastSeenAt } }\n  }\n": typeof types.PresenceChangedDocument,
};
const documents: Documents = {
    "\n  query RoomModeration($roomId: ID!) {\n    room(id: $roomId) {\n      id\n      type\n      slowModeSeconds\n      myMembership { id role mutedUntil }\n      members(limit: 100) { id role mutedUntil user { id displayName } }\n    }\n  }\n": types.RoomModerationDocument,
    "\n  mutation MuteMember($roomId: ID!, $userId: ID!, $until: DateTime) {\n    muteMember(roomId: $roomId, userId: $userId, until: $until) { id mutedUntil }\n  }\n": types.MuteMemberDocument,
    "\n  mutation UnmuteMember($roomId: ID!, $userId: ID!) {\n    unmuteMember(roomId: $roomId, userId: $userId) { id mutedUntil }\n  }\n": types.UnmuteMemberDocument,
    "\n  mutation BanMember($roomId: ID!, $userId: ID!) {\n    banMember(roomId: $roomId, userId: $userId)\n  }\n": types.BanMemberDocument,
    "\n  mutation SetSlowMode($roomId: ID!, $seconds: Int!) {\n    setSlowMode(roomId: $roomId, seconds: $seconds) { id slowModeSeconds }\n  }\n": types.SetSlowModeDocument,
    "\n  fragment MessageFields on Message {\n    id\n    seq\n    version\n    type\n    content\n    clientId\n    createdAt\n    isEdited\n    isDeleted\n    room { id }\n    sender { id displayName }\n    reactions { reaction count reactedByMe }\n    parent { id }\n    alsoInRoom\n    replyCount\n    lastReplyAt\n    threadParticipants { id displayName }\n    mentions { id displayName }\n    pinnedAt\n    pinnedBy { id displayName }\n    edits { content replacedAt }\n  }\n": types.MessageFieldsFragmentDoc,
    "\n  fragment MessageAttachments on Message {\n    attachments { id filename contentType size url width height }\n  }\n": types.MessageAttachmentsFragmentDoc,
    "\n  query Rooms {\n    rooms(pageSize: 50) {\n      items {\n        id\n        name\n        type\n        createdAt\n        lastMessageAt\n        unreadCount\n        unreadMentionCount\n        members { id role user { id displayName online } }\n        lastMessage { ...MessageFields }\n      }\n    }\n  }\n": types.RoomsDocument,
    "\n  fragment RoomLive on Room {\n    lastMessageAt\n    unreadCount\n    unreadMentionCount\n    lastMessage { ...MessageFields }\n  }\n": types.RoomLiveFragmentDoc,
    "\n  query Messages($roomId: ID!, $before: ID, $limit: Int!) {\n    messages(roomId: $roomId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n": types.MessagesDocument,
    "\n  query Thread($parentId: ID!, $before: ID, $limit: Int!) {\n    thread(parentId: $parentId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n": types.ThreadDocument,
    "\n  query Message($id: ID!) {\n    message(id: $id) { ...MessageFields }\n  }\n": types.MessageDocument,
    "\n  query SeenBy($id: ID!) {\n    message(id: $id) { id readCount readBy(limit: 5) { id displayName } }\n  }\n": types.SeenByDocument,
    "\n  query PinnedMessages($roomId: ID!) {\n    room(id: $roomId) { id pinnedMessages { ...MessageFields } }\n  }\n": types.PinnedMessagesDocument,
    "\n  query SearchMessages($query: String!, $limit: Int) {\n    searchMessages(query: $query, limit: $limit) {\n      snippet\n      message { ...MessageFields ...MessageAttachments }\n    }\n  }\n": types.SearchMessagesDocument,
    "\n  query Changes($since: String, $limit: Int) {\n    changes(since: $since, limit: $limit) {\n      cursor\n      hasMore\n      messages { ...MessageFields }\n    }\n  }\n": types.ChangesDocument,
    "\n  mutation CreateGroup($input: CreateGroupChatInput!) {\n    createGroupChat(input: $input) { id }\n  }\n": types.CreateGroupDocument,
    "\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { ...MessageFields ...MessageAttachments }\n  }\n": types.SendDocument,
    "\n  query MessageAttachments($id: ID!) {\n    message(id: $id) { id ...MessageAttachments }\n  }\n": types.MessageAttachmentsDocument,
    "\n  mutation CreateUpload($roomId: ID!, $filename: String!, $contentType: String!, $size: Int!) {\n    createUpload(roomId: $roomId, filename: $filename, contentType: $contentType, size: $size) { attachmentId uploadUrl method headers expiresAt }\n  }\n": types.CreateUploadDocument,
    "\n  mutation Edit($id: ID!, $content: String!, $mentionIds: [ID!]) {\n    editMessage(id: $id, content: $content, mentionIds: $mentionIds) { ...MessageFields }\n  }\n": types.EditDocument,
    "\n  mutation Delete($id: ID!) {\n    deleteMessage(id: $id) { ...MessageFields }\n  }\n": types.DeleteDocument,
    "\n  mutation Pin($id: ID!) {\n    pinMessage(id: $id) { ...MessageFields }\n  }\n": types.PinDocument,
    "\n  mutation Unpin($id: ID!) {\n    unpinMessage(id: $id) { ...MessageFields }\n  }\n": types.UnpinDocument,
    "\n  mutation AddReaction($id: ID!, $reaction: String!) {\n    addReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n": types.AddReactionDocument,
    "\n  mutation RemoveReaction($id: ID!, $reaction: String!) {\n    removeReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n": types.RemoveReactionDocument,
    "\n  mutation MarkRead($roomId: ID!) {\n    markRoomRead(roomId: $roomId) { id lastReadAt }\n  }\n": types.MarkReadDocument,
    "\n  mutation SetTyping($roomId: ID!, $isTyping: Boolean!) {\n    setTyping(roomId: $roomId, isTyping: $isTyping)\n  }\n": types.SetTypingDocument,
    "\n  subscription MessageAddedAnywhere {\n    messageAdded { ...MessageFields }\n  }\n": types.MessageAddedAnywhereDocument,
    "\n  subscription MessageAddedInRoom($roomId: ID!, $since: ID) {\n    messageAdded(roomId: $roomId, since: $since) { ...MessageFields }\n  }\n": types.MessageAddedInRoomDocument,
    "\n  subscription MessageUpdated($since: String) {\n    messageUpdated(since: $since) { ...MessageFields }\n  }\n": types.MessageUpdatedDocument,
    "\n  subscription MembershipChanged {\n    membershipChanged { kind room { id } }\n  }\n": types.MembershipChangedDocument,
    "\n  subscription Typing($roomId: ID!) {\n    typing(roomId: $roomId) { isTyping at user { id displayName } }\n  }\n": types.TypingDocument,
    "\n  subscription ReadReceipt($roomId: ID!) {\n    readReceipt(roomId: $roomId) { lastReadAt user { id displayName } }\n  }\n": types.ReadReceiptDocument,
    "\n  subscription PresenceChanged($roomId: ID!) {\n    presenceChanged(roomId: $roomId) { online user { id online lastSeenAt } }\n  }\n": types.PresenceChangedDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query RoomModeration($roomId: ID!) {\n    room(id: $roomId) {\n      id\n      type\n      slowModeSeconds\n      myMembership { id role mutedUntil }\n      members(limit: 100) { id role mutedUntil user { id displayName } }\n    }\n  }\n"): (typeof documents)["\n  query RoomModeration($roomId: ID!) {\n    room(id: $roomId) {\n      id\n      type\n      slowModeSeconds\n      myMembership { id role mutedUntil }\n      members(limit: 100) { id role mutedUntil user { id displayName } }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MuteMember($roomId: ID!, $userId: ID!, $until: DateTime) {\n    muteMember(roomId: $roomId, userId: $userId, until: $until) { id mutedUntil }\n  }\n"): (typeof documents)["\n  mutation MuteMember($roomId: ID!, $userId: ID!, $until: DateTime) {\n    muteMember(roomId: $roomId, userId: $userId, until: $until) { id mutedUntil }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UnmuteMember($roomId: ID!, $userId: ID!) {\n    unmuteMember(roomId: $roomId, userId: $userId) { id mutedUntil }\n  }\n"): (typeof documents)["\n  mutation UnmuteMember($roomId: ID!, $userId: ID!) {\n    unmuteMember(roomId: $roomId, userId: $userId) { id mutedUntil }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BanMember($roomId: ID!, $userId: ID!) {\n    banMember(roomId: $roomId, userId: $userId)\n  }\n"): (typeof documents)["\n  mutation BanMember($roomId: ID!, $userId: ID!) {\n    banMember(roomId: $roomId, userId: $userId)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetSlowMode($roomId: ID!, $seconds: Int!) {\n    setSlowMode(roomId: $roomId, seconds: $seconds) { id slowModeSeconds }\n  }\n"): (typeof documents)["\n  mutation SetSlowMode($roomId: ID!, $seconds: Int!) {\n    setSlowMode(roomId: $roomId, seconds: $seconds) { id slowModeSeconds }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MessageFields on Message {\n    id\n    seq\n    version\n    type\n    content\n    clientId\n    createdAt\n    isEdited\n    isDeleted\n    room { id }\n    sender { id displayName }\n    reactions { reaction count reactedByMe }\n    parent { id }\n    alsoInRoom\n    replyCount\n    lastReplyAt\n    threadParticipants { id displayName }\n    mentions { id displayName }\n    pinnedAt\n    pinnedBy { id displayName }\n    edits { content replacedAt }\n  }\n"): (typeof documents)["\n  fragment MessageFields on Message {\n    id\n    seq\n    version\n    type\n    content\n    clientId\n    createdAt\n    isEdited\n    isDeleted\n    room { id }\n    sender { id displayName }\n    reactions { reaction count reactedByMe }\n    parent { id }\n    alsoInRoom\n    replyCount\n    lastReplyAt\n    threadParticipants { id displayName }\n    mentions { id displayName }\n    pinnedAt\n    pinnedBy { id displayName }\n    edits { content replacedAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment MessageAttachments on Message {\n    attachments { id filename contentType size url width height }\n  }\n"): (typeof documents)["\n  fragment MessageAttachments on Message {\n    attachments { id filename contentType size url width height }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Rooms {\n    rooms(pageSize: 50) {\n      items {\n        id\n        name\n        type\n        createdAt\n        lastMessageAt\n        unreadCount\n        unreadMentionCount\n        members { id role user { id displayName online } }\n        lastMessage { ...MessageFields }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Rooms {\n    rooms(pageSize: 50) {\n      items {\n        id\n        name\n        type\n        createdAt\n        lastMessageAt\n        unreadCount\n        unreadMentionCount\n        members { id role user { id displayName online } }\n        lastMessage { ...MessageFields }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment RoomLive on Room {\n    lastMessageAt\n    unreadCount\n    unreadMentionCount\n    lastMessage { ...MessageFields }\n  }\n"): (typeof documents)["\n  fragment RoomLive on Room {\n    lastMessageAt\n    unreadCount\n    unreadMentionCount\n    lastMessage { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Messages($roomId: ID!, $before: ID, $limit: Int!) {\n    messages(roomId: $roomId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n"): (typeof documents)["\n  query Messages($roomId: ID!, $before: ID, $limit: Int!) {\n    messages(roomId: $roomId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Thread($parentId: ID!, $before: ID, $limit: Int!) {\n    thread(parentId: $parentId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n"): (typeof documents)["\n  query Thread($parentId: ID!, $before: ID, $limit: Int!) {\n    thread(parentId: $parentId, before: $before, limit: $limit) { ...MessageFields ...MessageAttachments }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Message($id: ID!) {\n    message(id: $id) { ...MessageFields }\n  }\n"): (typeof documents)["\n  query Message($id: ID!) {\n    message(id: $id) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SeenBy($id: ID!) {\n    message(id: $id) { id readCount readBy(limit: 5) { id displayName } }\n  }\n"): (typeof documents)["\n  query SeenBy($id: ID!) {\n    message(id: $id) { id readCount readBy(limit: 5) { id displayName } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PinnedMessages($roomId: ID!) {\n    room(id: $roomId) { id pinnedMessages { ...MessageFields } }\n  }\n"): (typeof documents)["\n  query PinnedMessages($roomId: ID!) {\n    room(id: $roomId) { id pinnedMessages { ...MessageFields } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SearchMessages($query: String!, $limit: Int) {\n    searchMessages(query: $query, limit: $limit) {\n      snippet\n      message { ...MessageFields ...MessageAttachments }\n    }\n  }\n"): (typeof documents)["\n  query SearchMessages($query: String!, $limit: Int) {\n    searchMessages(query: $query, limit: $limit) {\n      snippet\n      message { ...MessageFields ...MessageAttachments }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Changes($since: String, $limit: Int) {\n    changes(since: $since, limit: $limit) {\n      cursor\n      hasMore\n      messages { ...MessageFields }\n    }\n  }\n"): (typeof documents)["\n  query Changes($since: String, $limit: Int) {\n    changes(since: $since, limit: $limit) {\n      cursor\n      hasMore\n      messages { ...MessageFields }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateGroup($input: CreateGroupChatInput!) {\n    createGroupChat(input: $input) { id }\n  }\n"): (typeof documents)["\n  mutation CreateGroup($input: CreateGroupChatInput!) {\n    createGroupChat(input: $input) { id }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { ...MessageFields ...MessageAttachments }\n  }\n"): (typeof documents)["\n  mutation Send($input: SendMessageInput!) {\n    sendMessage(input: $input) { ...MessageFields ...MessageAttachments }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MessageAttachments($id: ID!) {\n    message(id: $id) { id ...MessageAttachments }\n  }\n"): (typeof documents)["\n  query MessageAttachments($id: ID!) {\n    message(id: $id) { id ...MessageAttachments }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateUpload($roomId: ID!, $filename: String!, $contentType: String!, $size: Int!) {\n    createUpload(roomId: $roomId, filename: $filename, contentType: $contentType, size: $size) { attachmentId uploadUrl method headers expiresAt }\n  }\n"): (typeof documents)["\n  mutation CreateUpload($roomId: ID!, $filename: String!, $contentType: String!, $size: Int!) {\n    createUpload(roomId: $roomId, filename: $filename, contentType: $contentType, size: $size) { attachmentId uploadUrl method headers expiresAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Edit($id: ID!, $content: String!, $mentionIds: [ID!]) {\n    editMessage(id: $id, content: $content, mentionIds: $mentionIds) { ...MessageFields }\n  }\n"): (typeof documents)["\n  mutation Edit($id: ID!, $content: String!, $mentionIds: [ID!]) {\n    editMessage(id: $id, content: $content, mentionIds: $mentionIds) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Delete($id: ID!) {\n    deleteMessage(id: $id) { ...MessageFields }\n  }\n"): (typeof documents)["\n  mutation Delete($id: ID!) {\n    deleteMessage(id: $id) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Pin($id: ID!) {\n    pinMessage(id: $id) { ...MessageFields }\n  }\n"): (typeof documents)["\n  mutation Pin($id: ID!) {\n    pinMessage(id: $id) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Unpin($id: ID!) {\n    unpinMessage(id: $id) { ...MessageFields }\n  }\n"): (typeof documents)["\n  mutation Unpin($id: ID!) {\n    unpinMessage(id: $id) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddReaction($id: ID!, $reaction: String!) {\n    addReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n"): (typeof documents)["\n  mutation AddReaction($id: ID!, $reaction: String!) {\n    addReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveReaction($id: ID!, $reaction: String!) {\n    removeReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n"): (typeof documents)["\n  mutation RemoveReaction($id: ID!, $reaction: String!) {\n    removeReaction(messageId: $id, reaction: $reaction) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MarkRead($roomId: ID!) {\n    markRoomRead(roomId: $roomId) { id lastReadAt }\n  }\n"): (typeof documents)["\n  mutation MarkRead($roomId: ID!) {\n    markRoomRead(roomId: $roomId) { id lastReadAt }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetTyping($roomId: ID!, $isTyping: Boolean!) {\n    setTyping(roomId: $roomId, isTyping: $isTyping)\n  }\n"): (typeof documents)["\n  mutation SetTyping($roomId: ID!, $isTyping: Boolean!) {\n    setTyping(roomId: $roomId, isTyping: $isTyping)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MessageAddedAnywhere {\n    messageAdded { ...MessageFields }\n  }\n"): (typeof documents)["\n  subscription MessageAddedAnywhere {\n    messageAdded { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MessageAddedInRoom($roomId: ID!, $since: ID) {\n    messageAdded(roomId: $roomId, since: $since) { ...MessageFields }\n  }\n"): (typeof documents)["\n  subscription MessageAddedInRoom($roomId: ID!, $since: ID) {\n    messageAdded(roomId: $roomId, since: $since) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MessageUpdated($since: String) {\n    messageUpdated(since: $since) { ...MessageFields }\n  }\n"): (typeof documents)["\n  subscription MessageUpdated($since: String) {\n    messageUpdated(since: $since) { ...MessageFields }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription MembershipChanged {\n    membershipChanged { kind room { id } }\n  }\n"): (typeof documents)["\n  subscription MembershipChanged {\n    membershipChanged { kind room { id } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription Typing($roomId: ID!) {\n    typing(roomId: $roomId) { isTyping at user { id displayName } }\n  }\n"): (typeof documents)["\n  subscription Typing($roomId: ID!) {\n    typing(roomId: $roomId) { isTyping at user { id displayName } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription ReadReceipt($roomId: ID!) {\n    readReceipt(roomId: $roomId) { lastReadAt user { id displayName } }\n  }\n"): (typeof documents)["\n  subscription ReadReceipt($roomId: ID!) {\n    readReceipt(roomId: $roomId) { lastReadAt user { id displayName } }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription PresenceChanged($roomId: ID!) {\n    presenceChanged(roomId: $roomId) { online user { id online lastSeenAt } }\n  }\n"): (typeof documents)["\n  subscription PresenceChanged($roomId: ID!) {\n    presenceChanged(roomId: $roomId) { online user { id online lastSeenAt } }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;