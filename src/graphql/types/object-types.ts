import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { MemberRole, MembershipEventKind, MessageType, RoomType } from './enums';

/**
 * The API's object types, field for field as in the contract. Resolvers return
 * domain records; relations (room, user, sender, reactions...) are field resolvers.
 * `simpleResolvers`: plain fields are read straight off the record, without
 * type-graphql's per-field wrapper (no middlewares or auth run on them anyway).
 */

@ObjectType('User', { description: 'A person known to the chat service, identified by the `sub` claim of their token.', simpleResolvers: true })
export class UserObject {
  @Field(() => ID)
  id: string;

  @Field(() => String, { nullable: true, description: "From the token's `name` claim; null until the user has called the API once." })
  displayName: string | null;

  @Field(() => ID, { nullable: true })
  companyId: string | null;
}

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

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date)
  updatedAt: Date;

  @Field(() => Date, { nullable: true })
  lastMessageAt: Date | null;

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

  @Field(() => Date)
  joinedAt: Date;

  @Field(() => Date, { nullable: true })
  lastReadAt: Date | null;

  @Field(() => Date, { nullable: true })
  removedAt: Date | null;

  roomId: string;
  userId: string;
}

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

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  editedAt: Date | null;

  @Field(() => Boolean)
  isDeleted: boolean;

  @Field(() => Date, { nullable: true })
  deletedAt: Date | null;

  roomId: string;
  senderId: string | null;
}

@ObjectType('ReactionSummary', { simpleResolvers: true })
export class ReactionSummaryObject {
  @Field(() => String)
  reaction: string;

  @Field(() => Int)
  count: number;

  @Field(() => Boolean)
  reactedByMe: boolean;

  userIds: string[];
}

@ObjectType('RoomPage', { simpleResolvers: true })
export class RoomPageObject {
  @Field(() => [RoomObject])
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

  @Field(() => Date)
  at: Date;

  roomId: string;
  userId: string;
}
