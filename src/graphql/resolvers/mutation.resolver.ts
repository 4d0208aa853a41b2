import { Arg, Ctx, Extensions, ID, Int, Mutation, Resolver, UseMiddleware, type MiddlewareFn } from 'type-graphql';
import { MAX_USERS_PER_CALL } from '../../chat/rooms/room.service';
import { listBound } from '../list-bounds';
import type { GraphQLContext } from '../context';
import { DateTime } from '../scalars';
import { MemberRole, MessageType } from '../types/enums';
import { CreateGroupChatInput, SendMessageInput } from '../types/inputs';
import { MemberObject, MessageObject, RoomObject } from '../types/object-types';

/**
 * A mutation's result must show the state after it: the request's reads so far
 * are forgotten before each mutation runs (mutations run one after another,
 * each result read before the next starts). On the mutations only: a global
 * middleware would wrap every field of every query.
 */
const freshReads: MiddlewareFn<GraphQLContext> = ({ context }, next) => {
  context.freshReads();
  return next();
};

@Resolver()
@UseMiddleware(freshReads)
export class MutationResolver {
  @Mutation(() => RoomObject, { description: 'Returns the existing DIRECT room between the two users if there is one.' })
  createDirectChat(@Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return ctx.services.rooms.createDirectChat(ctx.actor(), userId);
  }

  @Mutation(() => RoomObject)
  createGroupChat(@Arg('input', () => CreateGroupChatInput) input: CreateGroupChatInput, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return ctx.services.rooms.createGroupChat(ctx.actor(), input.name, input.memberIds);
  }

  @Mutation(() => [MemberObject])
  @Extensions(listBound({ cap: MAX_USERS_PER_CALL }))
  addMembers(
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) roomId: string,
    @Arg('userIds', () => [ID]) userIds: string[],
    @Arg('role', () => MemberRole, { nullable: true, defaultValue: MemberRole.MEMBER }) role: MemberRole | null,
  ): Promise<MemberObject[]> {
    return ctx.services.members.addMembers(ctx.actor(), roomId, userIds, role ?? MemberRole.MEMBER);
  }

  @Mutation(() => Boolean, { description: 'Removing yourself is leaving the room.' })
  removeMember(@Arg('roomId', () => ID) roomId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.members.removeMember(ctx.actor(), roomId, userId);
  }

  @Mutation(() => MemberObject)
  updateMemberRole(
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) roomId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('role', () => MemberRole) role: MemberRole,
  ): Promise<MemberObject> {
    return ctx.services.members.updateMemberRole(ctx.actor(), roomId, userId, role);
  }

  @Mutation(() => MemberObject, { description: 'Without `until`, muted until unmuted.' })
  muteMember(
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) roomId: string,
    @Arg('userId', () => ID) userId: string,
    @Arg('until', () => DateTime, { nullable: true }) until: Date | null,
  ): Promise<MemberObject> {
    return ctx.services.moderation.muteMember(ctx.actor(), roomId, userId, until ?? null);
  }

  @Mutation(() => MemberObject)
  unmuteMember(@Arg('roomId', () => ID) roomId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<MemberObject> {
    return ctx.services.moderation.unmuteMember(ctx.actor(), roomId, userId);
  }

  @Mutation(() => Boolean, { description: 'Removes the user and keeps them out until unbanned.' })
  banMember(@Arg('roomId', () => ID) roomId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.moderation.banMember(ctx.actor(), roomId, userId);
  }

  @Mutation(() => Boolean)
  unbanMember(@Arg('roomId', () => ID) roomId: string, @Arg('userId', () => ID) userId: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.services.moderation.unbanMember(ctx.actor(), roomId, userId);
  }

  @Mutation(() => RoomObject, { description: '0 turns slow mode off; at most 3600.' })
  setSlowMode(@Arg('roomId', () => ID) roomId: string, @Arg('seconds', () => Int) seconds: number, @Ctx() ctx: GraphQLContext): Promise<RoomObject> {
    return ctx.services.moderation.setSlowMode(ctx.actor(), roomId, seconds);
  }

  @Mutation(() => MemberObject, { description: "Moves the caller's lastReadAt forward (never back); `at` defaults to now." })
  markRoomRead(
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) roomId: string,
    @Arg('at', () => DateTime, { nullable: true }) at: Date | null,
  ): Promise<MemberObject> {
    return ctx.services.members.markRoomRead(ctx.actor(), roomId, at ?? null);
  }

  @Mutation(() => MessageObject)
  async sendMessage(@Arg('input', () => SendMessageInput) input: SendMessageInput, @Ctx() ctx: GraphQLContext): Promise<MessageObject> {
    const { message, sender } = await ctx.services.messages.sendMessage(ctx.actor(), {
      roomId: input.roomId,
      content: input.content,
      type: input.type ?? MessageType.TEXT,
      metadata: input.metadata ?? null,
      clientId: input.clientId ?? null,
      parentId: input.parentId ?? null,
      alsoInRoom: input.alsoInRoom ?? false,
      mentionIds: input.mentionIds ?? null,
      attachmentIds: input.attachmentIds ?? null,
    });
    // The send statement brought the sender's row: `sender` then costs nothing.
    if (sender) ctx.rows().primeUsers([sender]);
    return message;
  }

  @Mutation(() => MessageObject, { description: 'With mentionIds, the mentions are replaced; without, they are kept.' })
  editMessage(
    @Ctx() ctx: GraphQLContext,
    @Arg('id', () => ID) id: string,
    @Arg('content', () => String) content: string,
    @Arg('mentionIds', () => [ID], { nullable: true }) mentionIds: string[] | null,
  ): Promise<MessageObject> {
    return ctx.services.messages.editMessage(ctx.actor(), id, content, mentionIds ?? null);
  }

  @Mutation(() => MessageObject)
  pinMessage(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<MessageObject> {
    return ctx.services.messages.setPinned(ctx.actor(), id, true);
  }

  @Mutation(() => MessageObject)
  unpinMessage(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<MessageObject> {
    return ctx.services.messages.setPinned(ctx.actor(), id, false);
  }

  @Mutation(() => MessageObject)
  deleteMessage(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<MessageObject> {
    return ctx.services.messages.deleteMessage(ctx.actor(), id);
  }

  @Mutation(() => MessageObject)
  addReaction(@Arg('messageId', () => ID) messageId: string, @Arg('reaction', () => String) reaction: string, @Ctx() ctx: GraphQLContext): Promise<MessageObject> {
    return ctx.services.reactions.addReaction(ctx.actor(), messageId, reaction);
  }

  @Mutation(() => MessageObject)
  removeReaction(@Arg('messageId', () => ID) messageId: string, @Arg('reaction', () => String) reaction: string, @Ctx() ctx: GraphQLContext): Promise<MessageObject> {
    return ctx.services.reactions.removeReaction(ctx.actor(), messageId, reaction);
  }

  @Mutation(() => Boolean)
  setTyping(
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) roomId: string,
    @Arg('isTyping', () => Boolean, { nullable: true, defaultValue: true }) isTyping: boolean | null,
  ): Promise<boolean> {
    return ctx.services.typing.setTyping(ctx.actor(), roomId, isTyping ?? true);
  }
}
