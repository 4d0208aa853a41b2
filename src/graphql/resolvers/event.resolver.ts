import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MemberObject, MembershipEventObject, RoomObject, TypingEventObject, UserObject } from '../types/object-types';
import { required } from './required';

/** The records these resolvers get (plain objects: typed as interfaces, type-graphql passes them on as they are). */
type MembershipEventRecord = Pick<MembershipEventObject, 'roomId' | 'memberId' | 'userId'>;
type TypingEventRecord = Pick<TypingEventObject, 'roomId' | 'userId'>;

@Resolver(() => MembershipEventObject)
export class MembershipEventFieldsResolver {
  @FieldResolver(() => RoomObject)
  async room(@Root() event: MembershipEventRecord, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return required(await ctx.rows().room(event.roomId), 'room', event.roomId);
  }

  @FieldResolver(() => MemberObject)
  async member(@Root() event: MembershipEventRecord, @Ctx() ctx: GraphQLContext): Promise<MemberObject> {
    return required(await ctx.rows().membership(event.roomId, event.userId), 'member', event.memberId);
  }
}

@Resolver(() => TypingEventObject)
export class TypingEventFieldsResolver {
  @FieldResolver(() => RoomObject)
  async room(@Root() event: TypingEventRecord, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return required(await ctx.rows().room(event.roomId), 'room', event.roomId);
  }

  @FieldResolver(() => UserObject)
  async user(@Root() event: TypingEventRecord, @Ctx() ctx: GraphQLContext): Promise<UserObject> {
    return required(await ctx.rows().user(event.userId), 'user', event.userId);
  }
}
