import type { Repositories } from '../chat-repositories';
import type { Member } from '../members/member.table';
import type { MessageEdit } from '../messages/edit.table';
import type { Message } from '../messages/message.table';
import type { ReactionSummary } from '../reactions/reaction.repository';
import type { Room } from '../rooms/room.table';
import type { UserView } from '../users/user.table';
import { Batch, type Maybe, then } from './batch';

/** Results in key order, same length as the keys, null where nothing was found (DataLoader's contract). */
export function byKey<K, V>(keys: readonly K[], values: readonly V[], keyOf: (v: V) => K): (V | null)[] {
  const found = new Map(values.map((v) => [keyOf(v), v]));
  return keys.map((k) => found.get(k) ?? null);
}

const pairKey = (p: { roomId: string; userId: string }) => `${p.roomId}:${p.userId}`;

/**
 * The reads whose answer does not depend on who asks (a user's name, a room's
 * row, a message's reactions), batched per tick, answered synchronously once
 * read. Made per HTTP request, and per event for subscriptions: every
 * subscriber of one event on this server shares one, so 2,000 sockets
 * receiving a message cost one statement per kind of row. Visibility is not
 * decided here: whoever reaches a row through this reader has already been let
 * through (a root field, a stream's audience check, or ViewerReader).
 */
export class RowReader {
  private readonly users: Batch<string, UserView | null>;
  private readonly rooms: Batch<string, Room | null>;
  private readonly memberships: Batch<{ roomId: string; userId: string }, Member | null>;
  private readonly messages: Batch<string, Message | null>;
  private readonly reactions: Batch<string, ReactionSummary[]>;
  private readonly lastMessages: Batch<string, Message | null>;
  private readonly memberCounts: Batch<string, number>;
  private readonly activeMembers: Batch<string, Member[]>;
  private readonly allMembers: Batch<string, Member[]>;
  private readonly mentionIds: Batch<string, string[]>;
  private readonly editsOf: Batch<string, MessageEdit[]>;
  private readonly participants: Batch<string, string[]>;
  private readonly pins: Batch<string, Message[]>;
  private readonly readCounts = new Map<string, number>();

  constructor(repos: Repositories) {
    this.users = new Batch(async (ids) => byKey(ids, await repos.users.findByIds(ids), (u) => u.id));
    this.rooms = new Batch(async (ids) => byKey(ids, await repos.rooms.findByIds(ids), (r) => r.id));
    this.memberships = new Batch(async (pairs) => byKey(pairs.map(pairKey), await repos.members.findByRoomAndUsers(pairs), pairKey), pairKey);
    this.messages = new Batch(async (ids) => byKey(ids, await repos.messages.findByIds(ids), (m) => m.id));
    this.reactions = new Batch(async (messageIds) => {
      const { perMessage, users } = await repos.reactions.summaries(messageIds);
      this.primeUsers(users);
      return messageIds.map((id) => perMessage.get(id) ?? []);
    });
    this.lastMessages = new Batch(async (roomIds) => {
      const { messages, senders } = await repos.messages.lastMessages(roomIds);
      this.primeUsers(senders);
      return byKey(roomIds, messages, (m) => m.roomId);
    });
    this.memberCounts = new Batch(async (roomIds) => {
      const counts = await repos.members.countActiveByRooms(roomIds);
      return roomIds.map((id) => counts.get(id) ?? 0);
    });
    const membersOf = (activeOnly: boolean) =>
      new Batch<string, Member[]>(async (roomIds) => {
        const { members, users } = await repos.members.getByRoomsWithUsers(roomIds, activeOnly);
        this.primeUsers(users);
        for (const m of members) this.primeMembership(m);
        return roomIds.map((id) => members.filter((m) => m.roomId === id));
      });
    this.activeMembers = membersOf(true);
    this.allMembers = membersOf(false);
    this.mentionIds = new Batch(async (messageIds) => {
      const { perMessage, users } = await repos.messages.mentionsOfMessages(messageIds);
      this.primeUsers(users);
      return messageIds.map((id) => perMessage.get(id) ?? []);
    });
    this.editsOf = new Batch(async (messageIds) => {
      const perMessage = await repos.messages.editsOf(messageIds);
      return messageIds.map((id) => perMessage.get(id) ?? []);
    });
    this.participants = new Batch(async (parentIds) => {
      const perParent = await repos.messages.threadParticipants(parentIds, THREAD_PARTICIPANTS);
      return parentIds.map((id) => perParent.get(id) ?? []);
    });
    this.pins = new Batch(async (roomIds) => {
      const pinned = await repos.messages.pinnedIn(roomIds);
      this.primeMessages(pinned);
      return roomIds.map((id) => pinned.filter((m) => m.roomId === id));
    });
  }

  /** Forgets what was read: a mutation's result must show the state after it. */
  clear(): void {
    for (const batch of [
      this.users,
      this.rooms,
      this.memberships,
      this.messages,
      this.reactions,
      this.lastMessages,
      this.memberCounts,
      this.activeMembers,
      this.allMembers,
      this.mentionIds,
      this.editsOf,
      this.participants,
      this.pins,
    ] as Batch<unknown, unknown>[]) {
      batch.clear();
    }
    this.readCounts.clear();
  }

  primeUsers(users: readonly UserView[]): void {
    for (const u of users) this.users.prime(u.id, u);
  }

  primeRoom(room: Room): void {
    this.rooms.prime(room.id, room);
  }

  primeMembership(member: Member): void {
    this.memberships.prime({ roomId: member.roomId, userId: member.userId }, member);
  }

  primeMemberCount(roomId: string, count: number): void {
    this.memberCounts.prime(roomId, count);
  }

  primeLastMessage(roomId: string, message: Message | null): void {
    this.lastMessages.prime(roomId, message);
    if (message) this.messages.prime(message.id, message);
  }

  primeMessages(messages: readonly Message[]): void {
    for (const m of messages) this.messages.prime(m.id, m);
  }

  /** Mentions a statement already brought (a history page): ids per message, and the users. */
  primeMentions(perMessage: ReadonlyMap<string, string[]>, users: readonly UserView[]): void {
    this.primeUsers(users);
    for (const [messageId, ids] of perMessage) this.mentionIds.prime(messageId, ids);
  }

  /** Read counts a statement already brought (a history page). */
  primeReadCounts(counts: ReadonlyMap<string, number>): void {
    for (const [messageId, count] of counts) this.readCounts.set(messageId, count);
  }

  /** How many active members other than the sender have read the message (lastReadAt at or after it). */
  readCount(message: Message): Maybe<number> {
    const known = this.readCounts.get(message.id);
    return known !== undefined ? known : then(this.readers(message), (readers) => readers.length);
  }

  /** Summaries a statement already brought (a history page). */
  primeReactionSummaries(summaries: ReadonlyMap<string, ReactionSummary[]>): void {
    for (const [messageId, list] of summaries) this.reactions.prime(messageId, list);
  }

  user(id: string): Maybe<UserView | null> {
    return this.users.get(id);
  }

  usersByIds(ids: readonly string[]): Maybe<UserView[]> {
    const found = this.users.getMany(ids);
    const present = (users: (UserView | null)[]) => users.filter((u): u is UserView => u !== null);
    return found instanceof Promise ? found.then(present) : present(found);
  }

  room(id: string): Maybe<Room | null> {
    return this.rooms.get(id);
  }

  /** A user's membership of a room, active or not, or null. */
  membership(roomId: string, userId: string): Maybe<Member | null> {
    return this.memberships.get({ roomId, userId });
  }

  message(id: string): Maybe<Message | null> {
    return this.messages.get(id);
  }

  /** The reactions of a message, summed per reaction in order of first use. */
  reactionSummaries(messageId: string): Maybe<ReactionSummary[]> {
    return this.reactions.get(messageId);
  }

  /** The newest message of a room that is not deleted. */
  lastMessage(roomId: string): Maybe<Message | null> {
    return this.lastMessages.get(roomId);
  }

  memberCount(roomId: string): Maybe<number> {
    return this.memberCounts.get(roomId);
  }

  members(roomId: string, activeOnly: boolean): Maybe<Member[]> {
    return (activeOnly ? this.activeMembers : this.allMembers).get(roomId);
  }

  /** The users a message mentions, in order (none once it is deleted). */
  mentions(messageId: string): Maybe<UserView[]> {
    return then(this.mentionIds.get(messageId), (ids) => this.usersByIds(ids));
  }

  /** A message's earlier versions, oldest first. */
  edits(messageId: string): Maybe<MessageEdit[]> {
    return this.editsOf.get(messageId);
  }

  /** The distinct authors of a thread's live replies, in order of their first reply (at most 10). */
  threadParticipants(parentId: string): Maybe<UserView[]> {
    return then(this.participants.get(parentId), (ids) => this.usersByIds(ids));
  }

  /** A room's pinned messages, most recently pinned first. */
  pinned(roomId: string): Maybe<Message[]> {
    return this.pins.get(roomId);
  }

  /**
   * The active members other than the sender who have read a message (their
   * lastReadAt at or after its createdAt), earliest readers first: from the
   * room's members, read once for every message of the room in this request.
   */
  readers(message: Message): Maybe<Member[]> {
    return then(this.activeMembers.get(message.roomId), (members) =>
      members
        .filter((m) => m.userId !== message.senderId && m.lastReadAt !== null && m.lastReadAt >= message.createdAt)
        .sort((a, b) => ((a.lastReadAt as string) < (b.lastReadAt as string) ? -1 : 1)),
    );
  }
}

/** Thread participants shown at most. */
export const THREAD_PARTICIPANTS = 10;
