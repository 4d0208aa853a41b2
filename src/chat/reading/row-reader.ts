import DataLoader from 'dataloader';
import type { Repositories } from '../chat-repositories';
import type { Member } from '../members/member.table';
import type { Message } from '../messages/message.table';
import type { ReactionSummary } from '../reactions/reaction.repository';
import type { Room } from '../rooms/room.table';
import type { UserView } from '../users/user.table';

/** Results in key order, same length as the keys, null where nothing was found (DataLoader's contract). */
export function byKey<K, V>(keys: readonly K[], values: readonly V[], keyOf: (v: V) => K): (V | null)[] {
  const found = new Map(values.map((v) => [keyOf(v), v]));
  return keys.map((k) => found.get(k) ?? null);
}

const pairKey = (p: { roomId: string; userId: string }) => `${p.roomId}:${p.userId}`;

/**
 * The reads whose answer does not depend on who asks (a user's name, a room's
 * row, a message's reactions), batched per tick by DataLoaders. Made per HTTP
 * request, and per event for subscriptions: every subscriber of one event on
 * this server shares one, so 2,000 sockets receiving a message cost one
 * statement per kind of row. Visibility is not decided here: whoever reaches
 * a row through this reader has already been let through (a root field, a
 * stream's audience check, or src/chat/reading/viewer-reader.ts).
 */
export class RowReader {
  private readonly users: DataLoader<string, UserView | null>;
  private readonly rooms: DataLoader<string, Room | null>;
  private readonly memberships: DataLoader<{ roomId: string; userId: string }, Member | null, string>;
  private readonly messages: DataLoader<string, Message | null>;
  private readonly reactions: DataLoader<string, ReactionSummary[]>;
  private readonly lastMessages: DataLoader<string, Message | null>;
  private readonly memberCounts: DataLoader<string, number>;
  private readonly activeMembers: DataLoader<string, Member[]>;
  private readonly allMembers: DataLoader<string, Member[]>;
  /**
   * Rows already read, answered synchronously: a field that returns a value
   * instead of a promise spares graphql-js a promise per object, which on a
   * 50-message page is most of its work.
   */
  private readonly knownUsers = new Map<string, UserView>();
  private readonly knownSummaries = new Map<string, ReactionSummary[]>();

  constructor(repos: Repositories) {
    this.users = new DataLoader(async (ids) => {
      const found = await repos.users.findByIds(ids);
      for (const u of found) this.knownUsers.set(u.id, u);
      return byKey(ids, found, (u) => u.id);
    });
    this.rooms = new DataLoader(async (ids) => byKey(ids, await repos.rooms.findByIds(ids), (r) => r.id));
    this.memberships = new DataLoader(
      async (pairs) => byKey(pairs.map(pairKey), await repos.members.findByRoomAndUsers(pairs), pairKey),
      { cacheKeyFn: pairKey },
    );
    this.messages = new DataLoader(async (ids) => byKey(ids, await repos.messages.findByIds(ids), (m) => m.id));
    this.reactions = new DataLoader(async (messageIds) => {
      const { perMessage, users } = await repos.reactions.summaries(messageIds);
      this.primeUsers(users);
      return messageIds.map((id) => {
        const list = perMessage.get(id) ?? [];
        this.knownSummaries.set(id, list);
        return list;
      });
    });
    this.lastMessages = new DataLoader(async (roomIds) => {
      const { messages, senders } = await repos.messages.lastMessages(roomIds);
      this.primeUsers(senders);
      return byKey(roomIds, messages, (m) => m.roomId);
    });
    this.memberCounts = new DataLoader(async (roomIds) => {
      const counts = await repos.members.countActiveByRooms(roomIds);
      return roomIds.map((id) => counts.get(id) ?? 0);
    });
    const membersLoader = (activeOnly: boolean) =>
      new DataLoader<string, Member[]>(async (roomIds) => {
        const members = await repos.members.getByRooms(roomIds, activeOnly);
        for (const m of members) this.primeMembership(m);
        return roomIds.map((id) => members.filter((m) => m.roomId === id));
      });
    this.activeMembers = membersLoader(true);
    this.allMembers = membersLoader(false);
  }

  /** Forgets what was read: a mutation's result must show the state after it. */
  clear(): void {
    this.knownUsers.clear();
    this.knownSummaries.clear();
    for (const loader of [
      this.users,
      this.rooms,
      this.memberships,
      this.messages,
      this.reactions,
      this.lastMessages,
      this.memberCounts,
      this.activeMembers,
      this.allMembers,
    ] as DataLoader<unknown, unknown>[]) {
      loader.clearAll();
    }
  }

  primeUsers(users: readonly UserView[]): void {
    for (const u of users) {
      this.users.prime(u.id, u);
      this.knownUsers.set(u.id, u);
    }
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

  user(id: string): UserView | Promise<UserView | null> {
    return this.knownUsers.get(id) ?? this.users.load(id);
  }

  usersByIds(ids: readonly string[]): UserView[] | Promise<UserView[]> {
    const known = ids.map((id) => this.knownUsers.get(id));
    if (known.every((u) => u !== undefined)) return known as UserView[];
    return this.users.loadMany(ids).then((users) => users.filter((u): u is UserView => u !== null && !(u instanceof Error)));
  }

  room(id: string): Promise<Room | null> {
    return this.rooms.load(id);
  }

  /** A user's membership of a room, active or not, or null. */
  membership(roomId: string, userId: string): Promise<Member | null> {
    return this.memberships.load({ roomId, userId });
  }

  message(id: string): Promise<Message | null> {
    return this.messages.load(id);
  }

  /** The reactions of a message, summed per reaction in order of first use. */
  reactionSummaries(messageId: string): ReactionSummary[] | Promise<ReactionSummary[]> {
    return this.knownSummaries.get(messageId) ?? this.reactions.load(messageId);
  }

  /** Summaries a statement already brought (a history page), answered synchronously from then on. */
  primeReactionSummaries(summaries: ReadonlyMap<string, ReactionSummary[]>): void {
    for (const [messageId, list] of summaries) {
      this.reactions.prime(messageId, list);
      this.knownSummaries.set(messageId, list);
    }
  }

  /** The newest message of a room that is not deleted. */
  lastMessage(roomId: string): Promise<Message | null> {
    return this.lastMessages.load(roomId);
  }

  memberCount(roomId: string): Promise<number> {
    return this.memberCounts.load(roomId);
  }

  members(roomId: string, activeOnly: boolean): Promise<Member[]> {
    return (activeOnly ? this.activeMembers : this.allMembers).load(roomId);
  }
}
