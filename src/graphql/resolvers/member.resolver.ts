import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MemberObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';
import type { Member } from '../../chat/members/member.table';

@Resolver(() => MemberObject)
export class MemberFieldsResolver {
  @FieldResolver(() => RoomObject)
  async room(@Root() member: Member, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return required(await ctx.rows().room(member.roomId), 'room', member.roomId);
  }

  @FieldResolver(() => UserObject)
  async user(@Root() member: Member, @Ctx() ctx: GraphQLContext): Promise<UserObject> {
    return required(await ctx.rows().user(member.userId), 'user', member.userId);
  }
}
