import { Ctx, Extensions, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { PER_VIEWER } from '../per-viewer';
import { DateTime } from '../scalars';
import { UserObject } from '../types/object-types';
import { type Maybe, then } from '../../chat/reading/batch';
import type { UserView } from '../../chat/users/user.entity';

/** Presence: per viewer, since only users who share an active room with the caller see it (src/chat/presence). */
@Resolver(() => UserObject)
export class UserFieldsResolver {
  @FieldResolver(() => Boolean, {
    description: 'True while the user has an open authenticated WebSocket on any server. False for users who share no active room with the caller.',
  })
  @Extensions(PER_VIEWER)
  online(@Root() user: UserView, @Ctx() ctx: GraphQLContext): Maybe<boolean> {
    return then(ctx.viewer().presence(user.id), (p) => p.online);
  }

  @FieldResolver(() => DateTime, {
    nullable: true,
    description: "When the user's last socket closed (or now, while online). Null for users who share no active room with the caller.",
  })
  @Extensions(PER_VIEWER)
  lastSeenAt(@Root() user: UserView, @Ctx() ctx: GraphQLContext): Maybe<string | null> {
    return then(ctx.viewer().presence(user.id), (p) => p.lastSeenAt);
  }
}
