import { Ctx, Extensions, FieldResolver, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MessageObject, ReactionSummaryObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';
import { PER_VIEWER } from '../per-viewer';
import type { Message } from '../../chat/messages/message.table';
import type { ReactionSummary } from '../../chat/reactions/reaction.repository';

@Resolver(() => MessageObject)
export class MessageFieldsResolver {
  @FieldResolver(() => RoomObject)
  async room(@Root() message: Message, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return required(await ctx.rows().room(message.roomId), 'room', message.roomId);
  }

  @FieldResolver(() => UserObject, { nullable: true, description: 'Null for SYSTEM messages.' })
  sender(@Root() message: Message, @Ctx() ctx: GraphQLContext): UserObject | Promise<UserObject | null> | null {
    return message.senderId ? ctx.rows().user(message.senderId) : null;
  }

  @FieldResolver(() => Boolean)
  isEdited(@Root() message: Message): boolean {
    return message.editedAt !== null;
  }

  @FieldResolver(() => [ReactionSummaryObject])
  reactions(@Root() message: Message, @Ctx() ctx: GraphQLContext): ReactionSummaryObject[] | Promise<ReactionSummaryObject[]> {
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
  users(@Root() summary: ReactionSummary, @Ctx() ctx: GraphQLContext): UserObject[] | Promise<UserObject[]> {
    return ctx.rows().usersByIds(summary.userIds);
  }
}
