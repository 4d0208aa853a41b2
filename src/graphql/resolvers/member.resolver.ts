import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MemberObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';
import type { Member } from '../../chat/members/member.table';
import { type Maybe, then } from '../../chat/reading/batch';

@Resolver(() => MemberObject)
export class MemberFieldsResolver {
  @FieldResolver(() => RoomObject)
  room(@Root() member: Member, @Ctx() ctx: GraphQLContext): Maybe<RoomObject> {
    return then(ctx.rows().room(member.roomId), (room) => required(room, 'room', member.roomId));
  }

  @FieldResolver(() => UserObject)
  user(@Root() member: Member, @Ctx() ctx: GraphQLContext): Maybe<UserObject> {
    return then(ctx.rows().user(member.userId), (user) => required(user, 'user', member.userId));
  }
}
