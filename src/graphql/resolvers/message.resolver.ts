import { Arg, Ctx, Extensions, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { MessageEditObject, MessageObject, ReactionSummaryObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';
import { PER_VIEWER } from '../per-viewer';
import type { Message } from '../../chat/messages/message.table';
import { type Maybe, then } from '../../chat/reading/batch';
import { requireIntInRange } from '../../chat/validation';

/** How many readers `readBy` lists at most. */
const READ_BY_LIMIT = { min: 1, max: 100 };
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

  @FieldResolver(() => MessageObject, { nullable: true, description: 'The thread root this message replies to; null for a message that is not a reply.' })
  parent(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<MessageObject | null> {
    // The root is in the message's own room: whoever sees the reply sees it.
    return message.parentId ? ctx.rows().message(message.parentId) : null;
  }

  @FieldResolver(() => [UserObject], { description: 'Distinct authors of replies, in order of their first reply, at most 10.' })
  threadParticipants(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<UserObject[]> {
    return message.replyCount === 0 ? [] : ctx.rows().threadParticipants(message.id);
  }

  @FieldResolver(() => [UserObject], { description: 'Users mentioned by the message; empty once it is deleted.' })
  mentions(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<UserObject[]> {
    return message.isDeleted ? [] : ctx.rows().mentions(message.id);
  }

  @FieldResolver(() => UserObject, { nullable: true })
  pinnedBy(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<UserObject | null> {
    return message.pinnedById ? ctx.rows().user(message.pinnedById) : null;
  }

  @FieldResolver(() => [MessageEditObject], { description: 'Earlier versions, oldest first; empty once the message is deleted.' })
  edits(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<MessageEditObject[]> {
    return message.editedAt === null || message.isDeleted ? [] : ctx.rows().edits(message.id);
  }

  @FieldResolver(() => Int, { description: 'Active members other than the sender whose lastReadAt is at or after createdAt.' })
  readCount(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return ctx.rows().readCount(message);
  }

  @FieldResolver(() => [UserObject])
  readBy(
    @Root() message: Message,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 20 }) limit: number | null,
  ): Maybe<UserObject[]> {
    const max = requireIntInRange('limit', limit ?? 20, READ_BY_LIMIT.min, READ_BY_LIMIT.max);
    return then(ctx.rows().readers(message), (readers) => ctx.rows().usersByIds(readers.slice(0, max).map((m) => m.userId)));
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
