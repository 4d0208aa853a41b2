import { Arg, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { ChatEvent } from '../../chat/events';
import type { Message } from '../../chat/messages/message.entity';
import type { Delivery } from '../../realtime/chat-streams';
import type { GraphQLContext } from '../context';
import { MembershipEventObject, MessageObject, TypingEventObject } from '../types/object-types';

type EventOf<K extends ChatEvent['kind']> = Extract<ChatEvent, { kind: K }>;

/**
 * Each method runs once per delivered event: it renews the context's reader so
 * the event's fields are read with fresh loaders, then returns the payload.
 */
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => MessageObject, {
    description:
      'New messages in one room, or in every room the caller belongs to when roomId is omitted. With `since` (a message id) the messages after it are replayed first, with no gap and no duplicate.',
    subscribe: ({ args, context }) =>
      (context as GraphQLContext).streams.messageAdded((context as GraphQLContext).actor(), args.roomId ?? null, args.since ?? null),
  })
  messageAdded(
    @Root() { payload: message, rows }: Delivery<Message>,
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID, { nullable: true }) _roomId: string | null,
    @Arg('since', () => ID, { nullable: true }) _since: string | null,
  ): MessageObject {
    ctx.renewReader(rows);
    return message;
  }

  @Subscription(() => MessageObject, {
    description: 'Edits, deletions and reaction changes.',
    subscribe: ({ args, context }) =>
      (context as GraphQLContext).streams.messageUpdated((context as GraphQLContext).actor(), args.roomId ?? null),
  })
  messageUpdated(
    @Root() { payload: message, rows }: Delivery<Message>,
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID, { nullable: true }) _roomId: string | null,
  ): MessageObject {
    ctx.renewReader(rows);
    return message;
  }

  @Subscription(() => MembershipEventObject, {
    description: "Changes to the caller's memberships and to the members of rooms the caller belongs to.",
    subscribe: ({ context }) => (context as GraphQLContext).streams.membershipChanged((context as GraphQLContext).actor()),
  })
  membershipChanged(@Root() { payload: event, rows }: Delivery<EventOf<'membershipChanged'>>, @Ctx() ctx: GraphQLContext): MembershipEventObject {
    ctx.renewReader(rows);
    return { kind: event.change, roomId: event.roomId, memberId: event.memberId, userId: event.userId };
  }

  @Subscription(() => TypingEventObject, {
    subscribe: ({ args, context }) =>
      (context as GraphQLContext).streams.typing((context as GraphQLContext).actor(), args.roomId),
  })
  typing(
    @Root() { payload: event, rows }: Delivery<EventOf<'typing'>>,
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) _roomId: string,
  ): TypingEventObject {
    ctx.renewReader(rows);
    return { roomId: event.roomId, userId: event.userId, isTyping: event.isTyping, at: new Date(event.at) };
  }
}
