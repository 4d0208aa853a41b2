import { GraphQLJSON } from 'graphql-scalars';
import { DateTime } from '../scalars';
import { Directive, Extensions, Field, ID, Int, ObjectType } from 'type-graphql';
import { extraCost, listBound } from '../list-bounds';
import { MemberRole, MembershipEventKind, MessageType, RoomType } from './enums';

/**
 * The API's object types, field for field as in the contract. Resolvers return
 * domain records; relations (room, user, sender, reactions...) are field resolvers.
 * `simpleResolvers`: plain fields are read straight off the record, without
 * type-graphql's per-field wrapper (no middlewares or auth run on them anyway).
 * Date-times are the ISO strings the database gives (src/db/timestamps.ts).
 * Field resolvers type their @Root as the domain record (an interface, so its
 * reflected type is Object): type-graphql then passes the record on as it is,
 * instead of copying it into a new instance of the class for every field.
 * `@key` makes User, Room and Message entities of the Federation subgraph
 * (src/graphql/subgraph.ts); the default schema's printed SDL does not show it.
 */

@Directive('@key(fields: "id")')
@ObjectType('User', { description: 'A person known to the chat service, identified by the `sub` claim of their token.', simpleResolvers: true })
export class UserObject {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true, description: "From the token's `name` claim; null until the user has called the API once." })
  displayName: string | null;

  @Field(() => ID, { nullable: true })
  companyId: string | null;
}

@Directive('@key(fields: "id")')
@ObjectType('Room', { simpleResolvers: true })
export class RoomObject {
  @Field(() => ID)
  id: string;

  @Field(() => RoomType)
  type: RoomType;

  @Field(() => String, { nullable: true, description: 'Null for DIRECT rooms.' })
  name: string | null;

  @Field(() => ID, { nullable: true })
  companyId: string | null;

  @Field(() => DateTime)
  createdAt: string;

  @Field(() => DateTime)
  updatedAt: string;

  @Field(() => DateTime, { nullable: true })
  lastMessageAt: string | null;

  @Field(() => Int, { description: '0 when off. Otherwise a MEMBER may send one message per this many seconds.' })
  slowModeSeconds: number;

  createdById: string | null;
}

@ObjectType('Member', { simpleResolvers: true })
export class MemberObject {
  @Field(() => ID)
  id: string;

  @Field(() => MemberRole)
  role: MemberRole;

  @Field(() => Boolean)
  isActive: boolean;

  @Field(() => DateTime)
  joinedAt: string;

  @Field(() => DateTime, { nullable: true })
  lastReadAt: string | null;

  @Field(() => DateTime, { nullable: true })
  removedAt: string | null;

  roomId: string;
  userId: string;
}

@Directive('@key(fields: "id")')
@ObjectType('Message', { simpleResolvers: true })
export class MessageObject {
  @Field(() => ID)
  id: string;

  @Field(() => MessageType)
  type: MessageType;

  @Field(() => String, { nullable: true, description: 'Null once the message is deleted.' })
  content: string | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Null once the message is deleted.' })
  metadata: Record<string, unknown> | null;

  @Field(() => String, { nullable: true, description: "The sender's idempotency key, if one was given." })
  clientId: string | null;

  @Field(() => Int, { description: 'Position in the room: strictly increasing, assigned when the message is stored.' })
  seq: number;

  @Field(() => DateTime)
  createdAt: string;

  @Field(() => DateTime, { nullable: true })
  editedAt: string | null;

  @Field(() => Boolean)
  isDeleted: boolean;

  @Field(() => DateTime, { nullable: true })
  deletedAt: string | null;

  @Field(() => Boolean, { description: 'True for a reply that was also posted to the room (it then appears in room history).' })
  alsoInRoom: boolean;

  replyCount: number;

  @Field(() => DateTime, { nullable: true })
  lastReplyAt: string | null;

  @Field(() => DateTime, { nullable: true })
  pinnedAt: string | null;

  roomId: string;
  senderId: string | null;
  parentId: string | null;
  pinnedById: string | null;
}

@ObjectType('MessageEdit', { simpleResolvers: true })
export class MessageEditObject {
  @Field(() => String, { description: 'The content as it was before the edit.' })
  content: string;

  @Field(() => DateTime, { description: 'When this version was replaced.' })
  replacedAt: string;
}

@ObjectType('ReadReceipt', { simpleResolvers: true })
export class ReadReceiptObject {
  @Field(() => DateTime)
  lastReadAt: string;

  roomId: string;
  userId: string;
}

@ObjectType('ReactionSummary', { simpleResolvers: true })
export class ReactionSummaryObject {
  @Field(() => String)
  reaction: string;

  @Field(() => Int)
  count: number;

  userIds: string[];
}

@ObjectType('RoomPage', { simpleResolvers: true })
export class RoomPageObject {
  @Field(() => [RoomObject])
  @Extensions(listBound({ perParent: true }))
  items: RoomObject[];

  @Field(() => Int)
  total: number;

  @Field(() => Int)
  page: number;

  @Field(() => Int)
  pageSize: number;

  @Field(() => Int)
  pages: number;
}

@ObjectType('MembershipEvent', { simpleResolvers: true })
export class MembershipEventObject {
  @Field(() => MembershipEventKind)
  kind: MembershipEventKind;

  roomId: string;
  memberId: string;
  userId: string;
}

@ObjectType('TypingEvent', { simpleResolvers: true })
export class TypingEventObject {
  @Field(() => Boolean)
  isTyping: boolean;

  @Field(() => DateTime)
  at: string;

  roomId: string;
  userId: string;
}

@ObjectType('PresenceEvent', { simpleResolvers: true })
export class PresenceEventObject {
  @Field(() => Boolean)
  online: boolean;

  @Field(() => DateTime, { nullable: true })
  lastSeenAt: string | null;

  userId: string;
}

@ObjectType('ChangeBatch', { simpleResolvers: true })
export class ChangeBatchObject {
  @Field(() => [MessageObject], {
    description: "Messages of the caller's rooms created or changed after `since`, oldest change first (deleted ones included, their content null).",
  })
  @Extensions(listBound({ perParent: true }))
  messages: MessageObject[];

  @Field(() => [MemberObject], { description: "The caller's memberships that changed after `since` (added, removed, role, mute, ban)." })
  @Extensions(listBound({ perParent: true }))
  memberships: MemberObject[];

  @Field(() => String, { description: 'Pass as `since` next time.' })
  cursor: string;

  @Field(() => Boolean)
  hasMore: boolean;
}

/**
 * A search hit's snippet, in plain fields' units (a 50-message history page of 12,350 takes ~2 ms of our CPU): a hit
 * of 2,000 matching words, its text read and marked, took ~120-170 µs (issue 17, F2), as much as ~1,000 plain fields;
 * weighed at 300, three aliases of 100 such hits still fit one request's limit.
 */
export const SNIPPET_COST = 300;

@ObjectType('MessageSearchHit', { simpleResolvers: true })
export class MessageSearchHitObject {
  @Field(() => MessageObject)
  message: MessageObject;

  @Field(() => String, { description: 'An excerpt of the content with each match wrapped in <mark>...</mark>; the rest HTML-escaped.' })
  // Finding the first match reads the whole content (up to 4,000 characters), then the excerpt is marked.
  @Extensions(extraCost(SNIPPET_COST))
  snippet: string;
}
