import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MemberObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';
import type { Member } from '../../chat/members/member.entity';
import { type Maybe, then } from '../../chat/reading/batch';
import { isOutside, roomSeenFromOutside } from '../../chat/reading/outside';

@Resolver(() => MemberObject)
export class MemberFieldsResolver {
  @FieldResolver(() => RoomObject)
  room(@Root() member: Member, @Ctx() ctx: GraphQLContext): Maybe<RoomObject> {
    // A membership that ended, read by its own user (the changes feed): the room as seen from outside.
    return then(ctx.rows().room(member.roomId), (room) => {
      const found = required(room, 'room', member.roomId);
      return isOutside(member) ? roomSeenFromOutside(found) : found;
    });
  }

  @FieldResolver(() => UserObject)
  user(@Root() member: Member, @Ctx() ctx: GraphQLContext): Maybe<UserObject> {
    return then(ctx.rows().user(member.userId), (user) => required(user, 'user', member.userId));
  }
}
