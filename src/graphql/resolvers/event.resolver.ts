import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MemberObject, MembershipEventObject, RoomObject, TypingEventObject, UserObject } from '../types/object-types';
import { required } from './required';

@Resolver(() => MembershipEventObject)
export class MembershipEventFieldsResolver {
  @FieldResolver(() => RoomObject)
  async room(@Root() event: MembershipEventObject, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return required(await ctx.rows().room(event.roomId), 'room', event.roomId);
  }

  @FieldResolver(() => MemberObject)
  async member(@Root() event: MembershipEventObject, @Ctx() ctx: GraphQLContext): Promise<MemberObject> {
    return required(await ctx.rows().membership(event.roomId, event.userId), 'member', event.memberId);
  }
}

@Resolver(() => TypingEventObject)
export class TypingEventFieldsResolver {
  @FieldResolver(() => RoomObject)
  async room(@Root() event: TypingEventObject, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return required(await ctx.rows().room(event.roomId), 'room', event.roomId);
  }

  @FieldResolver(() => UserObject)
  async user(@Root() event: TypingEventObject, @Ctx() ctx: GraphQLContext): Promise<UserObject> {
    return required(await ctx.rows().user(event.userId), 'user', event.userId);
  }
}
