import { Arg, Ctx, Extensions, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import type { GraphQLContext } from '../context';
import { extraCost, listBound } from '../list-bounds';
import { MessageEditObject, MessageObject, ReactionSummaryObject, RoomObject, UserObject } from '../types/object-types';
import { required } from './required';
import { PER_VIEWER } from '../per-viewer';
import type { Message } from '../../chat/messages/message.entity';
import { MAX_MENTIONS } from '../../chat/messages/message.service';
import { MAX_REACTIONS_PER_MESSAGE } from '../../chat/reactions/reaction.service';
import type { ReactionSummary } from '../../chat/reactions/reaction.repository';
import { type Maybe, then } from '../../chat/reading/batch';
import { isOutside, roomSeenFromOutside } from '../../chat/reading/outside';
import { EDITS_LIMIT, READ_BY_DEFAULT, READ_BY_LIMIT, REACTION_USERS_LIMIT, THREAD_PARTICIPANTS } from '../../chat/reading/row-reader';

/**
 * A message's relations. A message read from outside its room (a room the
 * caller has left: src/chat/reading/outside.ts) is what it was; every field
 * here that would read the room's state now answers as for a room that does
 * not exist.
 */
/** A `readBy` list, one per message and alias whatever its limit, in plain fields' units (issue 17, F3: ~3 µs each, measured). */
export const READ_BY_COST = 12;

@Resolver(() => MessageObject)
export class MessageFieldsResolver {
  @FieldResolver(() => RoomObject)
  room(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<RoomObject> {
    return then(ctx.rows().room(message.roomId), (room) => {
      const found = required(room, 'room', message.roomId);
      return isOutside(message) ? roomSeenFromOutside(found) : found;
    });
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
    return ctx.services.changes.versionOf(message);
  }

  @FieldResolver(() => MessageObject, { nullable: true, description: 'The thread root this message replies to; null for a message that is not a reply.' })
  parent(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<MessageObject | null> {
    // The root is in the message's own room: whoever sees the reply sees it.
    return message.parentId && !isOutside(message) ? ctx.rows().message(message.parentId) : null;
  }

  @FieldResolver(() => Int, { description: 'Replies to this message (not deleted).' })
  replyCount(@Root() message: Message): number {
    return isOutside(message) ? 0 : message.replyCount;
  }

  @FieldResolver(() => [UserObject], { description: `Distinct authors of replies, in order of their first reply, at most ${THREAD_PARTICIPANTS}.` })
  @Extensions(listBound({ cap: THREAD_PARTICIPANTS }))
  threadParticipants(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<UserObject[]> {
    return message.replyCount === 0 || isOutside(message) ? [] : ctx.rows().threadParticipants(message.id);
  }

  @FieldResolver(() => [UserObject], { description: 'Users mentioned by the message; empty once it is deleted.' })
  @Extensions(listBound({ cap: MAX_MENTIONS }))
  mentions(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<readonly UserObject[]> {
    return message.isDeleted || isOutside(message) ? [] : ctx.rows().mentions(message);
  }

  @FieldResolver(() => UserObject, { nullable: true })
  pinnedBy(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<UserObject | null> {
    return message.pinnedById && !isOutside(message) ? ctx.rows().user(message.pinnedById) : null;
  }

  @FieldResolver(() => [MessageEditObject], {
    description: 'The most recent `limit` (1-100) earlier versions, oldest first; empty once the message is deleted.',
  })
  @Extensions(listBound({ arg: 'limit', max: EDITS_LIMIT.max }))
  edits(
    @Root() message: Message,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 20 }) limit: number | null,
  ): Maybe<MessageEditObject[]> {
    if (message.editedAt === null || message.isDeleted || isOutside(message)) return [];
    return ctx.rows().edits(message.id, limit ?? 20);
  }

  @FieldResolver(() => Int, { description: 'Active members other than the sender whose lastReadAt is at or after createdAt.' })
  readCount(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<number> {
    return isOutside(message) ? 0 : ctx.rows().readCount(message);
  }

  @FieldResolver(() => [UserObject])
  @Extensions({ ...listBound({ arg: 'limit', max: READ_BY_LIMIT.max }), ...extraCost(READ_BY_COST) })
  readBy(
    @Root() message: Message,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: READ_BY_DEFAULT }) limit: number | null,
  ): Maybe<UserObject[]> {
    return isOutside(message) ? [] : ctx.rows().readBy(message, limit ?? READ_BY_DEFAULT);
  }

  @FieldResolver(() => [ReactionSummaryObject])
  @Extensions(listBound({ cap: MAX_REACTIONS_PER_MESSAGE }))
  reactions(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<ReactionSummaryObject[]> {
    return isOutside(message) ? [] : ctx.rows().reactionSummaries(message);
  }
}

@Resolver(() => ReactionSummaryObject)
export class ReactionSummaryFieldsResolver {
  @FieldResolver(() => Boolean)
  @Extensions(PER_VIEWER)
  reactedByMe(@Root() summary: ReactionSummary, @Ctx() ctx: GraphQLContext): Maybe<boolean> {
    return ctx.viewer().reactedByMe(summary);
  }

  @FieldResolver(() => [UserObject], { description: 'The first `limit` (1-100) users to react with it, in order of reacting.' })
  @Extensions(listBound({ arg: 'limit', max: REACTION_USERS_LIMIT.max }))
  users(
    @Root() summary: ReactionSummary,
    @Ctx() ctx: GraphQLContext,
    @Arg('limit', () => Int, { nullable: true, defaultValue: 20 }) limit: number | null,
  ): Maybe<UserObject[]> {
    return ctx.rows().reactionUsers(summary, limit ?? 20);
  }
}
