import type { Actor } from '../actor';
import type { Repositories } from '../chat-repositories';
import { BadInputError, messageNotFound, roomNotFound } from '../errors';
import type { Member } from '../members/member.entity';
import type { Message } from '../messages/message.entity';
import type { InboxExtras } from '../rooms/room.repository';
import type { Room } from '../rooms/room.entity';
import type { UserView } from '../users/user.entity';
import { PRESENCE_HIDDEN, type PresenceService, type PresenceState } from '../presence/presence.service';
import { checkPaging, otherUserOfDirect } from '../rooms/room.service';
import type { Page, RoomType } from '../types';
import { requireIntInRange, requireUuid } from '../validation';
import { Batch, type Maybe, then } from './batch';
import type { ReactionSummary } from '../reactions/reaction.repository';
import { byKey, type ReadPosition, type RowReader } from './row-reader';

export const HISTORY_LIMIT = { min: 1, max: 200 };

/** What a history page reads with its messages, by what the client selected (src/graphql/selection.ts). */
export interface HistoryReadsSelected {
  reactions: boolean;
  reactionUsers: boolean;
  mentions?: boolean;
  readCount?: boolean;
  /** The `limit` of each `readBy` selected (aliases may differ); empty when none is. */
  readByLimits?: readonly number[];
  /** The message properties the selected fields read (null or absent: every one). */
  messageProperties?: ReadonlySet<keyof Message> | null;
}

const NONE_GIVEN: readonly string[] = Object.freeze([]);

/**
 * What one caller may read, batched per request: every read of a room, its
 * members or its messages passes the visibility rule here (through the
 * `visible` loader: one statement per batch of rooms), and an outsider gets
 * NOT_FOUND exactly as for a room that does not exist. Shared rows come from
 * the request's (or the event's) RowReader.
 */
export class ViewerReader {
  /** The actor's membership of each room they may see (null: not visible); primes the rooms it reads. */
  private readonly visible: Batch<string, Member | null>;
  private readonly visibleMessages: Batch<string, Message | null>;
  private readonly unreadCounts: Batch<string, number>;
  private readonly unreadMentionCounts: Batch<string, number>;
  /** The reactions the actor gave each message. */
  private readonly myReactions: Batch<string, readonly string[]>;
  /** Users' presence as the actor may see it: one statement and one round of the presence directory per batch. */
  private readonly presences: Batch<string, PresenceState>;

  constructor(
    private readonly repos: Repositories,
    readonly actor: Actor,
    readonly rows: RowReader,
    presence: Pick<PresenceService, 'online'>,
  ) {
    this.visible = new Batch(async (roomIds) => {
      const found = await repos.members.findVisibleWithRooms(actor.id, actor.companyId, roomIds);
      for (const { room, me } of found) {
        rows.primeRoom(room);
        rows.primeMembership(me);
      }
      return byKey(roomIds, found, (f) => f.room.id).map((f) => f?.me ?? null);
    });
    this.visibleMessages = new Batch(async (ids) => {
      const found = await repos.messages.findVisible(ids, actor.id, actor.companyId);
      for (const { message, me } of found) {
        this.visible.prime(message.roomId, me);
        rows.primeMembership(me);
      }
      return byKey(ids, found, (f) => f.message.id).map((f) => f?.message ?? null);
    });
    this.unreadCounts = new Batch(async (roomIds) => {
      const counts = await repos.members.unreadCounts(actor.id, roomIds);
      return roomIds.map((id) => counts.get(id) ?? 0);
    });
    this.unreadMentionCounts = new Batch(async (roomIds) => {
      const counts = await repos.members.unreadMentionCounts(actor.id, roomIds);
      return roomIds.map((id) => counts.get(id) ?? 0);
    });
    this.myReactions = new Batch(async (messageIds) => {
      const given = await repos.reactions.givenBy(actor.id, messageIds);
      return messageIds.map((id) => given.get(id) ?? []);
    });
    this.presences = new Batch(async (userIds) => {
      // Only users the actor shares an active room with (and the actor): the directory is asked about those alone.
      const seen = new Map((await repos.users.presenceSeenBy(actor.id, actor.companyId, userIds)).map((u) => [u.id, u.lastSeenAt]));
      const online = seen.size > 0 ? await presence.online([...seen.keys()]) : new Set<string>();
      const now = new Date().toISOString();
      return userIds.map((id): PresenceState => {
        if (!seen.has(id)) return PRESENCE_HIDDEN;
        return online.has(id) ? { online: true, lastSeenAt: now } : { online: false, lastSeenAt: seen.get(id) ?? null };
      });
    });
  }

  /** Forgets what was read (after a mutation). */
  clear(): void {
    this.visible.clear();
    this.visibleMessages.clear();
    this.unreadCounts.clear();
    this.unreadMentionCounts.clear();
    this.myReactions.clear();
    this.presences.clear();
    this.rows.clear();
  }

  canSee(roomId: string): Maybe<boolean> {
    return then(this.visible.get(roomId), (me) => me !== null);
  }

  /** The actor's own membership of a room (active or not), or null. */
  myMembership(roomId: string): Maybe<Member | null> {
    return this.rows.membership(roomId, this.actor.id);
  }

  /** A room the actor may see; otherwise NOT_FOUND, the same as a room that does not exist. */
  async requireRoom(roomId: string): Promise<Room> {
    const id = requireUuid('roomId', roomId);
    if (!(await this.canSee(id))) throw roomNotFound();
    return (await this.rows.room(id)) as Room;
  }

  /** A page of a room the actor may see: its members in join order (see RowReader.members). */
  members(roomId: string, activeOnly: boolean, limit: number, after: string | null): Maybe<Member[]> {
    return then(this.canSee(roomId), (visible) => {
      if (!visible) throw roomNotFound();
      return this.rows.members(roomId, activeOnly, limit, after);
    });
  }

  lastMessage(roomId: string): Maybe<Message | null> {
    return then(this.canSee(roomId), (visible) => (visible ? this.rows.lastMessage(roomId) : null));
  }

  unreadCount(roomId: string): Maybe<number> {
    return then(this.canSee(roomId), (visible) => (visible ? this.unreadCounts.get(roomId) : 0));
  }

  unreadMentionCount(roomId: string): Maybe<number> {
    return then(this.canSee(roomId), (visible) => (visible ? this.unreadMentionCounts.get(roomId) : 0));
  }

  pinnedMessages(roomId: string): Maybe<Message[]> {
    return then(this.canSee(roomId), (visible) => {
      if (!visible) throw roomNotFound();
      return this.rows.pinned(roomId);
    });
  }

  /** Read positions of the room's active members who have read anything, the actor included, most recent first. */
  readReceipts(roomId: string, limit: number): Maybe<ReadPosition[]> {
    return then(this.canSee(roomId), (visible) => {
      if (!visible) throw roomNotFound();
      return this.rows.readReceipts(roomId, limit);
    });
  }

  /** Whether the user is online and when they were last, if the actor shares an active room with them (PRESENCE_HIDDEN otherwise). */
  presence(userId: string): Maybe<PresenceState> {
    return this.presences.get(userId);
  }

  /** Whether the actor gave this reaction to its message (read once per request for every message asked). */
  reactedByMe(summary: ReactionSummary): Maybe<boolean> {
    return then(this.myReactions.get(summary.messageId), (given) => given.includes(summary.reaction));
  }

  /** A thread's replies, newest first, keyset-paged by `before` (a reply, exclusive); the root must be visible (NOT_FOUND otherwise). */
  async thread(parentId: string, limit: number, before: string | null): Promise<Message[]> {
    requireIntInRange('limit', limit, HISTORY_LIMIT.min, HISTORY_LIMIT.max);
    const beforeId = before === null ? null : requireUuid('before', before);
    const root = await this.message(requireUuid('parentId', parentId));
    const page = await this.repos.messages.getThread(root.id, limit, beforeId);
    if (!page) throw new BadInputError(`before must name a reply of this thread, got "${before}"`);
    this.rows.primeUsers(page.senders);
    this.rows.primeMessages(page.messages);
    return page.messages;
  }

  /** The messages that mention the actor, in rooms they may see, newest first, keyset-paged by `before`. */
  async mentions(limit: number, before: string | null): Promise<Message[]> {
    requireIntInRange('limit', limit, HISTORY_LIMIT.min, HISTORY_LIMIT.max);
    const beforeId = before === null ? null : requireUuid('before', before);
    const page = await this.repos.messages.mentionsOf(this.actor.id, this.actor.companyId, limit, beforeId);
    if (!page) throw new BadInputError(`before must name a message that mentions you, got "${before}"`);
    this.rows.primeUsers(page.senders);
    this.rows.primeMessages(page.messages);
    return page.messages;
  }

  /**
   * A user as the actor may see them by id alone (another service's reference
   * to them, through a supergraph): the name and company of users of the
   * actor's own company (the ones rooms could show them), and of nobody else,
   * whose id answers as a user who never called the API would. An id is no oracle.
   */
  async user(userId: string): Promise<UserView> {
    const id = requireUuid('id', userId);
    const user = await this.rows.user(id);
    return user && user.companyId === this.actor.companyId ? user : { id, displayName: null, companyId: null };
  }

  /** A message of a room the actor may see; otherwise NOT_FOUND (one statement either way). */
  async message(messageId: string): Promise<Message> {
    const id = requireUuid('id', messageId);
    const message = await this.visibleMessages.get(id);
    if (!message) throw messageNotFound();
    return message;
  }

  /**
   * A room's history, newest first, keyset-paged by `before` (exclusive). What is
   * `selected` (reactions, their users, mentions, read counts) comes in the page's
   * one statement, so those fields resolve without a promise; the columns read
   * are the page's usual ones when the fields need no others (LEAN_MESSAGE_PROPERTIES).
   */
  async history(
    roomId: string,
    limit: number,
    before: string | null,
    includeDeleted: boolean,
    selected: HistoryReadsSelected = { reactions: false, reactionUsers: false },
  ): Promise<Message[]> {
    requireIntInRange('limit', limit, HISTORY_LIMIT.min, HISTORY_LIMIT.max);
    const beforeId = before === null ? null : requireUuid('before', before);
    const id = requireUuid('roomId', roomId);
    // One statement: the visibility check, the page, its senders and (if selected) its reactions, mentions and read counts.
    const page = await this.repos.messages.getRoomMessages(id, limit, beforeId, includeDeleted, {
      viewer: { userId: this.actor.id, companyId: this.actor.companyId },
      withReactions: selected.reactions,
      withReactionUsers: selected.reactionUsers,
      withMentions: selected.mentions === true,
      withReadCounts: selected.readCount === true,
      properties: selected.messageProperties ?? null,
    });
    if (!page.visible) throw roomNotFound();
    if (!page.cursorFound) throw new BadInputError(`before must name a message of this room, got "${before}"`);
    this.rows.primeHistory(page);
    if (selected.reactions) {
      // Most messages carry none of the actor's reactions: those share one empty list.
      for (const m of page.messages) {
        const summaries = m['page.reactions'] ?? [];
        const mine = summaries.some((r) => r.mine) ? summaries.filter((r) => r.mine).map((r) => r.reaction) : NONE_GIVEN;
        this.myReactions.prime(m.id, mine);
      }
    }
    if (selected.readByLimits?.length) await this.rows.preloadReaders(page.messages, selected.readByLimits);
    return page.messages;
  }

  /** The actor's inbox: rooms they may see, newest activity first; what `extras` asks for comes in the same statement. */
  async inbox(type: RoomType | null, page: number, pageSize: number, extras?: InboxExtras): Promise<Page<Room>> {
    checkPaging(page, pageSize);
    const result = await this.repos.rooms.getRoomsForUser(this.actor.id, this.actor.companyId, type, page, pageSize, extras);
    for (const item of result.items) {
      const roomId = item.room.id;
      this.rows.primeRoom(item.room);
      this.rows.primeMembership(item.membership);
      this.visible.prime(roomId, item.membership);
      if (item.memberCount !== undefined) this.rows.primeMemberCount(roomId, item.memberCount);
      if (item.unreadCount !== undefined) this.unreadCounts.prime(roomId, item.unreadCount);
      if (item.lastMessage !== undefined) this.rows.primeLastMessage(roomId, item.lastMessage);
      if (item.lastMessageSender) this.rows.primeUsers([item.lastMessageSender]);
    }
    return { ...result, items: result.items.map((i) => i.room) };
  }

  /** GROUP rooms of the actor's company; an actor without a company sees none. */
  async companyRooms(page: number, pageSize: number): Promise<Page<Room>> {
    checkPaging(page, pageSize);
    if (!this.actor.companyId) return { items: [], total: 0, page, pageSize, pages: 0 };
    const result = await this.repos.rooms.getCompanyRooms(this.actor.companyId, page, pageSize);
    for (const room of result.items) this.rows.primeRoom(room);
    return result;
  }

  /** The DIRECT room of the actor and `userId`, if there is one the actor may see. */
  async directChat(userId: string): Promise<Room | null> {
    const otherId = otherUserOfDirect(this.actor, userId);
    const room = await this.repos.rooms.findDirectChat(this.actor.id, otherId);
    if (!room || !(await this.canSee(room.id))) return null;
    return room;
  }
}
