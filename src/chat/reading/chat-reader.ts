import DataLoader from 'dataloader';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, messageNotFound, roomNotFound } from '../errors';
import type { Member } from '../members/member.entity';
import type { Message } from '../messages/message.entity';
import type { Room } from '../rooms/room.entity';
import { checkPaging, otherUserOfDirect } from '../rooms/room.service';
import type { Page, RoomType } from '../types';
import type { User } from '../users/user.entity';
import { requireIntInRange, requireUuid } from '../validation';
import { repositoryRows, type RowSource } from './row-source';

/** One reaction on a message, summed up for the reader. */
export interface ReactionSummary {
  reaction: string;
  count: number;
  reactedByMe: boolean;
  userIds: string[];
}

export const HISTORY_LIMIT = { min: 1, max: 200 };

/** Results in key order, same length as the keys, null where nothing was found (DataLoader's contract). */
function byKey<K, V>(keys: readonly K[], values: V[], keyOf: (v: V) => K): (V | null)[] {
  const found = new Map(values.map((v) => [keyOf(v), v]));
  return keys.map((k) => found.get(k) ?? null);
}

const pairKey = (roomId: string, userId: string) => `${roomId}:${userId}`;

/**
 * Everything one request (or one subscription event) reads, batched per tick by
 * DataLoaders and visible only as far as the actor's memberships allow. Made per
 * request: caches never outlive it and are never shared between users.
 */
export class ChatReader {
  private readonly users: DataLoader<string, User | null>;
  private readonly rooms: DataLoader<string, Room | null>;
  private readonly memberships: DataLoader<{ roomId: string; userId: string }, Member | null, string>;
  private readonly activeMembers: DataLoader<string, Member[]>;
  private readonly allMembers: DataLoader<string, Member[]>;
  private readonly memberCounts: DataLoader<string, number>;
  private readonly lastMessages: DataLoader<string, Message | null>;
  private readonly unreadCounts: DataLoader<string, number>;
  private readonly messages: DataLoader<string, Message | null>;
  private readonly reactions: DataLoader<string, ReactionSummary[]>;
  /**
   * Users already read in this request, answered synchronously: a field that
   * returns a value instead of a promise spares graphql-js a promise per object,
   * which on a 50-message page is most of its work.
   */
  private readonly knownUsers = new Map<string, User>();
  private readonly knownSummaries = new Map<string, ReactionSummary[]>();

  /** @param rows where actor-independent rows come from; an event's subscribers share one (EventRows). */
  constructor(
    private readonly repos: ChatRepositories,
    readonly actor: Actor,
    rows: RowSource = repositoryRows(repos),
  ) {
    this.users = new DataLoader(async (ids) => {
      const found = await rows.users(ids);
      for (const u of found) this.knownUsers.set(u.id, u);
      return byKey(ids, found, (u) => u.id);
    });
    this.rooms = new DataLoader(async (ids) => byKey(ids, await rows.rooms(ids), (r) => r.id));
    this.memberships = new DataLoader(
      async (pairs) => {
        const found = await rows.memberships(pairs);
        return byKey(pairs.map((p) => pairKey(p.roomId, p.userId)), found, (m) => pairKey(m.roomId, m.userId));
      },
      { cacheKeyFn: (p) => pairKey(p.roomId, p.userId) },
    );
    const membersLoader = (activeOnly: boolean) =>
      new DataLoader<string, Member[]>(async (roomIds) => {
        const members = await repos.members.getByRooms(roomIds, activeOnly);
        for (const m of members) this.memberships.prime({ roomId: m.roomId, userId: m.userId }, m);
        return roomIds.map((id) => members.filter((m) => m.roomId === id));
      });
    this.activeMembers = membersLoader(true);
    this.allMembers = membersLoader(false);
    this.memberCounts = new DataLoader(async (roomIds) => {
      const counts = await repos.members.countActiveByRooms(roomIds);
      return roomIds.map((id) => counts.get(id) ?? 0);
    });
    this.lastMessages = new DataLoader(async (roomIds) => {
      const { messages, senders } = await repos.messages.lastMessages(roomIds);
      this.primeUsers(senders);
      return byKey(roomIds, messages, (m) => m.roomId);
    });
    this.unreadCounts = new DataLoader(async (roomIds) => {
      const counts = await repos.members.unreadCounts(actor.id, roomIds);
      return roomIds.map((id) => counts.get(id) ?? 0);
    });
    this.messages = new DataLoader(async (ids) => byKey(ids, await repos.messages.findByIds(ids), (m) => m.id));
    this.reactions = new DataLoader(async (messageIds) => {
      const { reactions, users } = await rows.reactions(messageIds);
      this.primeUsers(users);
      // One pass over the rows (in order of first use), grouped per message and reaction.
      const perMessage = new Map<string, Map<string, ReactionSummary>>();
      for (const r of reactions) {
        let summaries = perMessage.get(r.messageId);
        if (!summaries) perMessage.set(r.messageId, (summaries = new Map()));
        const s = summaries.get(r.reaction) ?? { reaction: r.reaction, count: 0, reactedByMe: false, userIds: [] };
        s.count += 1;
        s.reactedByMe ||= r.userId === actor.id;
        s.userIds.push(r.userId);
        summaries.set(r.reaction, s);
      }
      return messageIds.map((messageId) => {
        const list = [...(perMessage.get(messageId)?.values() ?? [])];
        this.knownSummaries.set(messageId, list);
        return list;
      });
    });
  }

  /** Forgets what was read: a mutation's result must show the state after it. */
  clear(): void {
    this.knownUsers.clear();
    this.knownSummaries.clear();
    for (const loader of [
      this.users,
      this.rooms,
      this.memberships,
      this.activeMembers,
      this.allMembers,
      this.memberCounts,
      this.lastMessages,
      this.unreadCounts,
      this.messages,
      this.reactions,
    ] as DataLoader<unknown, unknown>[]) {
      loader.clearAll();
    }
  }

  /** Seeds the loaders with rows a statement already brought (the inbox reads memberships with rooms). */
  primeRoom(room: Room, membership?: Member): void {
    this.rooms.prime(room.id, room);
    if (membership) this.memberships.prime({ roomId: room.id, userId: membership.userId }, membership);
  }

  primeUsers(users: User[]): void {
    for (const u of users) {
      this.users.prime(u.id, u);
      this.knownUsers.set(u.id, u);
    }
  }

  /** The actor's own membership of a room (active or not), or null. */
  myMembership(roomId: string): Promise<Member | null> {
    return this.memberships.load({ roomId, userId: this.actor.id });
  }

  async isActiveMember(roomId: string): Promise<boolean> {
    return (await this.myMembership(roomId))?.isActive === true;
  }

  user(id: string): User | Promise<User | null> {
    return this.knownUsers.get(id) ?? this.users.load(id);
  }

  usersByIds(ids: string[]): User[] | Promise<User[]> {
    const known = ids.map((id) => this.knownUsers.get(id));
    if (known.every((u) => u !== undefined)) return known as User[];
    return this.users.loadMany(ids).then((users) => users.filter((u): u is User => u !== null && !(u instanceof Error)));
  }

  member(roomId: string, userId: string): Promise<Member | null> {
    return this.memberships.load({ roomId, userId });
  }

  /** A room reached through something the actor may already see (a message, a member). */
  roomById(id: string): Promise<Room | null> {
    return this.rooms.load(id);
  }

  /** A room the actor is an active member of; otherwise NOT_FOUND, the same as a room that does not exist. */
  async requireRoom(roomId: string): Promise<Room> {
    const id = requireUuid('roomId', roomId);
    const [room, member] = await Promise.all([this.rooms.load(id), this.myMembership(id)]);
    if (!room || !member?.isActive) throw roomNotFound();
    return room;
  }

  async members(roomId: string, activeOnly: boolean): Promise<Member[]> {
    if (!(await this.isActiveMember(roomId))) throw roomNotFound();
    return (activeOnly ? this.activeMembers : this.allMembers).load(roomId);
  }

  memberCount(roomId: string): Promise<number> {
    return this.memberCounts.load(roomId);
  }

  async lastMessage(roomId: string): Promise<Message | null> {
    return (await this.isActiveMember(roomId)) ? this.lastMessages.load(roomId) : null;
  }

  async unreadCount(roomId: string): Promise<number> {
    return (await this.isActiveMember(roomId)) ? this.unreadCounts.load(roomId) : 0;
  }

  /** A message of a room the actor is an active member of; otherwise NOT_FOUND. */
  async message(messageId: string): Promise<Message> {
    const id = requireUuid('id', messageId);
    const message = await this.messages.load(id);
    if (!message || !(await this.isActiveMember(message.roomId))) throw messageNotFound();
    return message;
  }

  /**
   * A room's history, newest first, keyset-paged by `before` (exclusive). With
   * `withReactions` (the client selected them) the page's reactions are read
   * before it returns, so each message's reactions resolve without a promise.
   */
  async history(
    roomId: string,
    limit: number,
    before: string | null,
    includeDeleted: boolean,
    withReactions = false,
  ): Promise<Message[]> {
    requireIntInRange('limit', limit, HISTORY_LIMIT.min, HISTORY_LIMIT.max);
    const beforeId = before === null ? null : requireUuid('before', before);
    const id = requireUuid('roomId', roomId);
    // An active membership implies the room exists; skipping the room row keeps the page at 3 statements.
    if (!(await this.isActiveMember(id))) throw roomNotFound();
    const page = await this.repos.messages.getRoomMessages(id, limit, beforeId, includeDeleted);
    if (!page) throw new BadInputError(`before must name a message of this room, got "${before}"`);
    this.primeUsers(page.senders);
    for (const m of page.messages) this.messages.prime(m.id, m);
    if (withReactions && page.messages.length > 0) await this.reactions.loadMany(page.messages.map((m) => m.id));
    return page.messages;
  }

  /** The actor's inbox: rooms where they are an active member, newest activity first. */
  async inbox(type: RoomType | null, page: number, pageSize: number): Promise<Page<Room>> {
    checkPaging(page, pageSize);
    const result = await this.repos.rooms.getRoomsForUser(this.actor.id, type, page, pageSize);
    for (const { room, membership } of result.items) this.primeRoom(room, membership);
    return { ...result, items: result.items.map((i) => i.room) };
  }

  /** GROUP rooms of the actor's company; an actor without a company sees none. */
  async companyRooms(page: number, pageSize: number): Promise<Page<Room>> {
    checkPaging(page, pageSize);
    if (!this.actor.companyId) return { items: [], total: 0, page, pageSize, pages: 0 };
    const result = await this.repos.rooms.getCompanyRooms(this.actor.companyId, page, pageSize);
    for (const room of result.items) this.primeRoom(room);
    return result;
  }

  /** The DIRECT room of the actor and `userId`, if there is one. */
  async directChat(userId: string): Promise<Room | null> {
    const otherId = otherUserOfDirect(this.actor, userId);
    const room = await this.repos.rooms.findDirectChat(this.actor.id, otherId);
    if (room) this.primeRoom(room);
    return room;
  }

  reactionSummaries(messageId: string): ReactionSummary[] | Promise<ReactionSummary[]> {
    return this.knownSummaries.get(messageId) ?? this.reactions.load(messageId);
  }
}
