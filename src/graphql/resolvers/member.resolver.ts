import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { mutedAt } from '../../chat/access/permissions';
import { DateTime } from '../scalars';
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

  @FieldResolver(() => DateTime, { nullable: true, description: 'Set while the member may not send or react; null when not muted.' })
  mutedUntil(@Root() member: Member): string | null {
    // A mute that has ended reads as none: the row keeps its time until someone mutes or unmutes again.
    return mutedAt(member);
  }

  @FieldResolver(() => UserObject)
  user(@Root() member: Member, @Ctx() ctx: GraphQLContext): Maybe<UserObject> {
    return then(ctx.rows().user(member.userId), (user) => required(user, 'user', member.userId));
  }
}
