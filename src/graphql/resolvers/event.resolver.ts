import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type Maybe, then } from '../../chat/reading/batch';
import { fromOutside, isOutside, roomSeenFromOutside } from '../../chat/reading/outside';
import type { GraphQLContext } from '../context';
import { MemberObject, MembershipEventObject, PresenceEventObject, ReadReceiptObject, RoomObject, TypingEventObject, UserObject } from '../types/object-types';
import { required } from './required';

/** The records these resolvers get (plain objects: typed as interfaces, type-graphql passes them on as they are). */
type MembershipEventRecord = Pick<MembershipEventObject, 'roomId' | 'memberId' | 'userId'>;
type TypingEventRecord = Pick<TypingEventObject, 'roomId' | 'userId'>;
type ReadReceiptRecord = Pick<ReadReceiptObject, 'roomId' | 'userId'>;

@Resolver(() => MembershipEventObject)
export class MembershipEventFieldsResolver {
  @FieldResolver(() => RoomObject)
  room(@Root() event: MembershipEventRecord, @Ctx() ctx: GraphQLContext): Maybe<RoomObject> {
    // The subscriber's own removal (or an entry to a room they may not see): the room as seen from outside.
    return then(ctx.rows().room(event.roomId), (room) => {
      const found = required(room, 'room', event.roomId);
      return isOutside(event) ? roomSeenFromOutside(found) : found;
    });
  }

  @FieldResolver(() => MemberObject)
  member(@Root() event: MembershipEventRecord, @Ctx() ctx: GraphQLContext): Maybe<MemberObject> {
    return then(ctx.rows().membership(event.roomId, event.userId), (member) => {
      const found = required(member, 'member', event.memberId);
      return isOutside(event) ? fromOutside(found) : found;
    });
  }
}

@Resolver(() => TypingEventObject)
export class TypingEventFieldsResolver {
  @FieldResolver(() => RoomObject)
  room(@Root() event: TypingEventRecord, @Ctx() ctx: GraphQLContext): Maybe<RoomObject> {
    return then(ctx.rows().room(event.roomId), (room) => required(room, 'room', event.roomId));
  }

  @FieldResolver(() => UserObject)
  user(@Root() event: TypingEventRecord, @Ctx() ctx: GraphQLContext): Maybe<UserObject> {
    return then(ctx.rows().user(event.userId), (user) => required(user, 'user', event.userId));
  }
}

@Resolver(() => ReadReceiptObject)
export class ReadReceiptFieldsResolver {
  @FieldResolver(() => RoomObject)
  room(@Root() receipt: ReadReceiptRecord, @Ctx() ctx: GraphQLContext): Maybe<RoomObject> {
    return then(ctx.rows().room(receipt.roomId), (room) => required(room, 'room', receipt.roomId));
  }

  @FieldResolver(() => UserObject)
  user(@Root() receipt: ReadReceiptRecord, @Ctx() ctx: GraphQLContext): Maybe<UserObject> {
    return then(ctx.rows().user(receipt.userId), (user) => required(user, 'user', receipt.userId));
  }
}

@Resolver(() => PresenceEventObject)
export class PresenceEventFieldsResolver {
  @FieldResolver(() => UserObject)
  user(@Root() event: Pick<PresenceEventObject, 'userId'>, @Ctx() ctx: GraphQLContext): Maybe<UserObject> {
    return then(ctx.rows().user(event.userId), (user) => required(user, 'user', event.userId));
  }
}
