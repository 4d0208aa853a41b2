import { Arg, Ctx, Extensions, FieldResolver, ID, Info, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { GraphQLContext } from '../context';
import { PER_VIEWER } from '../per-viewer';
import { historySelection } from '../selection';
import { MemberObject, MessageObject, ReadReceiptObject, RoomObject, UserObject } from '../types/object-types';
import type { Maybe } from '../../chat/reading/batch';
import type { Room } from '../../chat/rooms/room.table';

@Resolver(() => RoomObject)
export class RoomFieldsResolver {
  @FieldResolver(() => UserObject, { nullable: true })
  createdBy(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<UserObject | null> {
    return room.createdById ? ctx.rows().user(room.createdById) : null;
  }

  @FieldResolver(() => [MemberObject])
  @Extensions(PER_VIEWER)
  members(
    @Root() room: Room,
    @Ctx() ctx: GraphQLContext,
    @Arg('activeOnly', () => Boolean, { nullable: true, defaultValue: true }) activeOnly: boolean | null,
  ): Maybe<MemberObject[]> {
    return ctx.viewer().members(room.id, activeOnly ?? true);
  }

  @FieldResolver(() => Int)
  memberCount(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return ctx.rows().memberCount(room.id);
  }

  @FieldResolver(() => MemberObject, { nullable: true, description: "The caller's own membership." })
  @Extensions(PER_VIEWER)
  myMembership(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<MemberObject | null> {
    return ctx.viewer().myMembership(room.id);
  }

  @FieldResolver(() => MessageObject, { nullable: true })
  @Extensions(PER_VIEWER)
  lastMessage(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<MessageObject | null> {
    return ctx.viewer().lastMessage(room.id);
  }

  @FieldResolver(() => Int, { description: "Messages after the caller's lastReadAt, not sent by the caller, not deleted." })
  @Extensions(PER_VIEWER)
  unreadCount(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return ctx.viewer().unreadCount(room.id);
  }

  @FieldResolver(() => Int, { description: "Messages after the caller's lastReadAt that mention the caller, not deleted." })
  @Extensions(PER_VIEWER)
  unreadMentionCount(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return ctx.viewer().unreadMentionCount(room.id);
  }

  @FieldResolver(() => [MessageObject], { description: 'Pinned messages, most recently pinned first.' })
  @Extensions(PER_VIEWER)
  pinnedMessages(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<MessageObject[]> {
    return ctx.viewer().pinnedMessages(room.id);
  }

  @FieldResolver(() => [ReadReceiptObject], { description: 'Read positions of the active members who have read anything, the caller included.' })
  @Extensions(PER_VIEWER)
  readReceipts(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<ReadReceiptObject[]> {
    return ctx.viewer().readReceipts(room.id);
  }

  @FieldResolver(() => [MessageObject], { description: 'Newest first; `before` is a message id (exclusive).' })
  @Extensions(PER_VIEWER)
  messages(
    @Root() room: Room,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limit: number | null,
    @Arg('before', () => ID, { nullable: true }) before: string | null,
    @Arg('includeDeleted', () => Boolean, { nullable: true, defaultValue: false }) includeDeleted: boolean | null,
    @Info() info: GraphQLResolveInfo,
  ): Promise<MessageObject[]> {
    return ctx.viewer().history(room.id, limit ?? 50, before ?? null, includeDeleted ?? false, historySelection(info));
  }
}
