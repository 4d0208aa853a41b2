import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { ChatEvent } from '../../chat/events';
import type { Message } from '../../chat/messages/message.entity';
import { fromOutside, isOutside } from '../../chat/reading/outside';
import type { GraphQLContext } from '../context';
import { MembershipEventObject, MessageObject, PresenceEventObject, ReadReceiptObject, TypingEventObject } from '../types/object-types';

type EventOf<K extends ChatEvent['kind']> = Extract<ChatEvent, { kind: K }>;

/**
 * `subscribe` opens the stream (src/realtime/chat-streams.ts: who receives
 * what); each delivered payload is then executed as the root value, with a
 * context built per event by src/transport/subscription-executor.ts.
 */
@Resolver()
export class SubscriptionResolver {
  @Subscription(() => MessageObject, {
    description:
      'New messages in one room, or in every room the caller belongs to when roomId is omitted. With `since` (a message id) the messages after it are replayed first, with no gap and no duplicate.',
    subscribe: ({ args, context }) =>
      (context as GraphQLContext).streams.messageAdded((context as GraphQLContext).actor(), args.roomId ?? null, args.since ?? null, (context as GraphQLContext).replayTurn),
  })
  messageAdded(
    @Root() message: Message,
    @Arg('roomId', () => ID, { nullable: true }) _roomId: string | null,
    @Arg('since', () => ID, { nullable: true }) _since: string | null,
  ): MessageObject {
    return message;
  }

  @Subscription(() => MessageObject, {
    description:
      'Edits, deletions, reaction, pin and reply-count changes. With `since` (a Message.version or a ChangeBatch cursor) the messages changed after it are replayed first, oldest change first, with no gap and no duplicate.',
    subscribe: ({ args, context }) =>
      (context as GraphQLContext).streams.messageUpdated((context as GraphQLContext).actor(), args.roomId ?? null, args.since ?? null, (context as GraphQLContext).replayTurn),
  })
  messageUpdated(
    @Root() message: Message,
    @Arg('roomId', () => ID, { nullable: true }) _roomId: string | null,
    @Arg('since', () => String, { nullable: true }) _since: string | null,
  ): MessageObject {
    return message;
  }

  @Subscription(() => MembershipEventObject, {
    description: "Changes to the caller's memberships and to the members of rooms the caller belongs to.",
    subscribe: ({ context }) => (context as GraphQLContext).streams.membershipChanged((context as GraphQLContext).actor()),
  })
  membershipChanged(@Root() event: EventOf<'membershipChanged'>): MembershipEventObject {
    const record = { kind: event.change, roomId: event.roomId, memberId: event.memberId, userId: event.userId };
    // The subscriber's own removal keeps its mark: its room is then seen from outside.
    return isOutside(event) ? fromOutside(record) : record;
  }

  @Subscription(() => ReadReceiptObject, {
    description: "Members' read positions moving forward.",
    subscribe: ({ args, context }) => (context as GraphQLContext).streams.readReceipt((context as GraphQLContext).actor(), args.roomId),
  })
  readReceipt(@Root() event: EventOf<'readReceipt'>, @Arg('roomId', () => ID) _roomId: string): ReadReceiptObject {
    return { roomId: event.roomId, userId: event.userId, lastReadAt: event.lastReadAt };
  }

  @Subscription(() => TypingEventObject, {
    subscribe: ({ args, context }) => (context as GraphQLContext).streams.typing((context as GraphQLContext).actor(), args.roomId),
  })
  typing(@Root() event: EventOf<'typing'>, @Arg('roomId', () => ID) _roomId: string): TypingEventObject {
    return { roomId: event.roomId, userId: event.userId, isTyping: event.isTyping, at: event.at };
  }

  @Subscription(() => PresenceEventObject, {
    description: 'Members of the room coming online and going offline.',
    subscribe: ({ args, context }) => (context as GraphQLContext).streams.presenceChanged((context as GraphQLContext).actor(), args.roomId),
  })
  presenceChanged(@Root() event: EventOf<'presence'>, @Arg('roomId', () => ID) _roomId: string): PresenceEventObject {
    return { userId: event.userId, online: event.online, lastSeenAt: event.lastSeenAt };
  }
}
