import { Ctx, Extensions, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MessageObject, ReactionSummaryObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';
import { PER_VIEWER } from '../per-viewer';
import type { Message } from '../../chat/messages/message.table';
import { type Maybe, then } from '../../chat/reading/batch';
import type { ReactionSummary } from '../../chat/reactions/reaction.repository';

@Resolver(() => MessageObject)
export class MessageFieldsResolver {
  @FieldResolver(() => RoomObject)
  room(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<RoomObject> {
    return then(ctx.rows().room(message.roomId), (room) => required(room, 'room', message.roomId));
  }

  @FieldResolver(() => UserObject, { nullable: true, description: 'Null for SYSTEM messages.' })
  sender(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<UserObject | null> {
    return message.senderId ? ctx.rows().user(message.senderId) : null;
  }

  @FieldResolver(() => Boolean)
  isEdited(@Root() message: Message): boolean {
    return message.editedAt !== null;
  }

  @FieldResolver(() => String, {
    description:
      'Opaque change cursor: grows with every change to the message (edit, deletion, reaction, pin, reply). Pass it as `since` to resume.',
  })
  version(@Root() message: Message, @Ctx() ctx: GraphQLContext): string {
    return ctx.services.changes.cursorOf(message.version);
  }

  @FieldResolver(() => [ReactionSummaryObject])
  reactions(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<ReactionSummaryObject[]> {
    return ctx.rows().reactionSummaries(message.id);
  }
}

@Resolver(() => ReactionSummaryObject)
export class ReactionSummaryFieldsResolver {
  @FieldResolver(() => Boolean)
  @Extensions(PER_VIEWER)
  reactedByMe(@Root() summary: ReactionSummary, @Ctx() ctx: GraphQLContext): boolean {
    return summary.userIds.includes(ctx.viewer().actor.id);
  }

  @FieldResolver(() => [UserObject])
  users(@Root() summary: ReactionSummary, @Ctx() ctx: GraphQLContext): Maybe<UserObject[]> {
    return ctx.rows().usersByIds(summary.userIds);
  }
}
