import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MemberObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';

@Resolver(() => MemberObject)
export class MemberFieldsResolver {
  @FieldResolver(() => RoomObject)
  async room(@Root() member: MemberObject, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return required(await ctx.rows().room(member.roomId), 'room', member.roomId);
  }

  @FieldResolver(() => UserObject)
  async user(@Root() member: MemberObject, @Ctx() ctx: GraphQLContext): Promise<UserObject> {
    return required(await ctx.rows().user(member.userId), 'user', member.userId);
  }
}
