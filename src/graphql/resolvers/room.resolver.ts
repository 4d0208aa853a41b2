import { Arg, Ctx, Extensions, FieldResolver, ID, Info, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLResolveInfo } from 'graphql';
import type { GraphQLContext } from '../context';
import { listBound } from '../list-bounds';
import { PER_VIEWER } from '../per-viewer';
import { historySelection } from '../selection';
import { MemberObject, MessageObject, ReadReceiptObject, RoomObject, UserObject } from '../types/object-types';
import type { Maybe } from '../../chat/reading/batch';
import { isOutside } from '../../chat/reading/outside';
import { HISTORY_LIMIT } from '../../chat/reading/viewer-reader';
import { MEMBERS_LIMIT, READ_RECEIPTS_LIMIT } from '../../chat/reading/row-reader';
import { MAX_PINS } from '../../chat/messages/message.service';
import type { Room } from '../../chat/rooms/room.entity';

/**
 * A room's relations. A room seen from outside (one the caller has left,
 * reached through what they may still read of it: src/chat/reading/outside.ts)
 * answers every field about its life now as a room that does not exist would.
 */
@Resolver(() => RoomObject)
export class RoomFieldsResolver {
  @FieldResolver(() => UserObject, { nullable: true })
  createdBy(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<UserObject | null> {
    return room.createdById ? ctx.rows().user(room.createdById) : null;
  }

  @FieldResolver(() => [MemberObject], { description: 'Ordered by joinedAt then id; `limit` 1-500; `after` is a member id (exclusive).' })
  @Extensions({ ...PER_VIEWER, ...listBound({ arg: 'limit', max: MEMBERS_LIMIT.max }) })
  members(
    @Root() room: Room,
    @Ctx() ctx: GraphQLContext,
    @Arg('activeOnly', () => Boolean, { nullable: true, defaultValue: true }) activeOnly: boolean | null,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 100 }) limit: number | null,
    @Arg('after', () => ID, { nullable: true }) after: string | null,
  ): Maybe<MemberObject[]> {
    return isOutside(room) ? [] : ctx.viewer().members(room.id, activeOnly ?? true, limit ?? 100, after ?? null);
  }

  @FieldResolver(() => Int)
  memberCount(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return isOutside(room) ? 0 : ctx.rows().memberCount(room.id);
  }

  @FieldResolver(() => MemberObject, { nullable: true, description: "The caller's own membership." })
  @Extensions(PER_VIEWER)
  myMembership(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<MemberObject | null> {
    return isOutside(room) ? null : ctx.viewer().myMembership(room.id);
  }

  @FieldResolver(() => MessageObject, { nullable: true })
  @Extensions(PER_VIEWER)
  lastMessage(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<MessageObject | null> {
    return isOutside(room) ? null : ctx.viewer().lastMessage(room.id);
  }

  @FieldResolver(() => Int, { description: "Messages after the caller's lastReadAt, not sent by the caller, not deleted." })
  @Extensions(PER_VIEWER)
  unreadCount(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return isOutside(room) ? 0 : ctx.viewer().unreadCount(room.id);
  }

  @FieldResolver(() => Int, { description: "Messages after the caller's lastReadAt that mention the caller, not deleted." })
  @Extensions(PER_VIEWER)
  unreadMentionCount(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return isOutside(room) ? 0 : ctx.viewer().unreadMentionCount(room.id);
  }

  @FieldResolver(() => [MessageObject], { description: 'Pinned messages, most recently pinned first.' })
  @Extensions({ ...PER_VIEWER, ...listBound({ cap: MAX_PINS }) })
  pinnedMessages(@Root() room: Room, @Ctx() ctx: GraphQLContext): Maybe<MessageObject[]> {
    return isOutside(room) ? [] : ctx.viewer().pinnedMessages(room.id);
  }

  @FieldResolver(() => [ReadReceiptObject], {
    description: 'Read positions of the active members who have read anything, the caller included; most recent first, `limit` 1-500.',
  })
  @Extensions({ ...PER_VIEWER, ...listBound({ arg: 'limit', max: READ_RECEIPTS_LIMIT.max }) })
  readReceipts(
    @Root() room: Room,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 100 }) limit: number | null,
  ): Maybe<ReadReceiptObject[]> {
    return isOutside(room) ? [] : ctx.viewer().readReceipts(room.id, limit ?? 100);
  }

  @FieldResolver(() => [MessageObject], { description: 'Newest first; `before` is a message id (exclusive).' })
  @Extensions({ ...PER_VIEWER, ...listBound({ arg: 'limit', max: HISTORY_LIMIT.max }) })
  messages(
    @Root() room: Room,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 50 }) limit: number | null,
    @Arg('before', () => ID, { nullable: true }) before: string | null,
    @Arg('includeDeleted', () => Boolean, { nullable: true, defaultValue: false }) includeDeleted: boolean | null,
    @Info() info: GraphQLResolveInfo,
  ): Promise<MessageObject[]> | MessageObject[] {
    if (isOutside(room)) return [];
    return ctx.viewer().history(room.id, limit ?? 50, before ?? null, includeDeleted ?? false, historySelection(info));
  }
}
