import type { Attachment } from '../attachments/attachment.entity';
import type { Repositories } from '../chat-repositories';
import type { Member } from '../members/member.entity';
import type { MessageEdit } from '../messages/edit.entity';
import type { HistoryPage, PageReads } from '../messages/history.queries';
import type { Message } from '../messages/message.entity';
import type { MemberPageKey } from '../members/member.repository';
import { REACTION_USERS_KEPT, type ReactionSummary } from '../reactions/reaction.repository';
import { BadInputError } from '../errors';
import { requireIntInRange, requireUuid } from '../validation';
import type { Room } from '../rooms/room.entity';
import type { UserView } from '../users/user.entity';
import { Batch, type Maybe, then } from './batch';

/** Results in key order, same length as the keys, null where nothing was found (DataLoader's contract). */
export function byKey<K, V>(keys: readonly K[], values: readonly V[], keyOf: (v: V) => K): (V | null)[] {
  const found = new Map(values.map((v) => [keyOf(v), v]));
  return keys.map((k) => found.get(k) ?? null);
}

/** What a history page read with a message in its statement (src/chat/messages/history.queries.ts), if it did. */
function pageRead<K extends keyof PageReads>(message: Message, key: K): PageReads[K] {
  return (message as Message & PageReads)[key];
}

/** The list of a message that has none (shared: most messages mention nobody). */
const NO_USERS: readonly UserView[] = Object.freeze([]);

const pairKey = (p: { roomId: string; userId: string }) => `${p.roomId}:${p.userId}`;

/** Members one `Room.members(limit)` lists at most. */
export const MEMBERS_LIMIT = { min: 1, max: 500 };
/** Read receipts one `Room.readReceipts(limit)` lists at most. */
export const READ_RECEIPTS_LIMIT = { min: 1, max: 500 };
/** Readers one `Message.readBy(limit)` lists at most. */
export const READ_BY_LIMIT = { min: 1, max: 100 };
/** `Message.readBy`'s limit when none is given. */
export const READ_BY_DEFAULT = 20;
/** Earlier versions one `Message.edits(limit)` lists at most. */
export const EDITS_LIMIT = { min: 1, max: 100 };
/** Users one `ReactionSummary.users(limit)` lists at most (what a summary keeps). */
export const REACTION_USERS_LIMIT = { min: 1, max: REACTION_USERS_KEPT };
/** Thread participants shown at most. */
export const THREAD_PARTICIPANTS = 10;

/** A member's read position, as Room.readReceipts lists it. */
export interface ReadPosition {
  roomId: string;
  userId: string;
  lastReadAt: string;
}

const memberPageKey = (k: MemberPageKey) => `${k.roomId}:${k.activeOnly}:${k.limit}:${k.after ?? ''}`;
const limitedKey = (k: { id: string; limit: number }) => `${k.id}:${k.limit}`;

/**
 * The reads whose answer does not depend on who asks (a user's name, a room's
 * row, a message's reactions), batched per tick, answered synchronously once
 * read. Made per HTTP request, and per event for subscriptions: every
 * subscriber of one event on this server shares one, so 2,000 sockets
 * receiving a message cost one statement per kind of row. Every list is read
 * at its bound (a page of members, the first readers, the latest edits), so
 * no field's work grows with the size of a room. Visibility is not decided
 * here: whoever reaches a row through this reader has already been let
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
  private readonly memberPages: Batch<MemberPageKey, { members: Member[]; found: boolean }>;
  private readonly mentionLists: Batch<string, readonly UserView[]>;
  private readonly editPages: Batch<{ id: string; limit: number }, MessageEdit[]>;
  private readonly participants: Batch<string, string[]>;
  private readonly pins: Batch<string, Message[]>;
  private readonly readerPages: Batch<{ id: string; limit: number }, string[]>;
  private readonly readCounts: Batch<string, number>;
  private readonly readPositions: Batch<{ id: string; limit: number }, ReadPosition[]>;
  private readonly attachmentLists: Batch<string, Attachment[]>;

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
    this.memberPages = new Batch(async (keys) => {
      const { pages, users } = await repos.members.pages(keys);
      this.primeUsers(users);
      for (const page of pages) for (const m of page.members) this.primeMembership(m);
      return pages;
    }, memberPageKey);
    this.mentionLists = new Batch(async (messageIds) => {
      const { perMessage, users } = await repos.messages.mentionsOfMessages(messageIds);
      this.primeUsers(users);
      const byId = new Map(users.map((u) => [u.id, u]));
      return messageIds.map((id) => perMessage.get(id)?.map((userId) => byId.get(userId) as UserView) ?? NO_USERS);
    });
    this.editPages = new Batch((keys) => repos.messages.editsOf(keys.map((k) => ({ messageId: k.id, limit: k.limit }))), limitedKey);
    this.participants = new Batch(async (parentIds) => {
      const perParent = await repos.messages.threadParticipants(parentIds, THREAD_PARTICIPANTS);
      return parentIds.map((id) => perParent.get(id) ?? []);
    });
    this.pins = new Batch(async (roomIds) => {
      const pinned = await repos.messages.pinnedIn(roomIds);
      this.primeMessages(pinned);
      return roomIds.map((id) => pinned.filter((m) => m.roomId === id));
    });
    this.readerPages = new Batch((keys) => repos.members.readers(keys.map((k) => ({ messageId: k.id, limit: k.limit }))), limitedKey);
    this.readCounts = new Batch(async (messageIds) => {
      const counts = await repos.members.readCounts(messageIds);
      return messageIds.map((id) => counts.get(id) ?? 0);
    });
    this.readPositions = new Batch(async (keys) => {
      const lists = await repos.members.readPositions(keys.map((k) => ({ roomId: k.id, limit: k.limit })));
      return lists.map((list, i) => list.map((p) => ({ roomId: keys[i].id, ...p })));
    }, limitedKey);
    this.attachmentLists = new Batch(async (messageIds) => {
      const perMessage = await repos.attachments.ofMessages(messageIds);
      return messageIds.map((id) => perMessage.get(id) ?? []);
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
      this.memberPages,
      this.mentionLists,
      this.editPages,
      this.participants,
      this.pins,
      this.readerPages,
      this.readCounts,
      this.readPositions,
      this.attachmentLists,
    ] as Batch<unknown, unknown>[]) {
      batch.clear();
    }
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

  /**
   * What a history page's statement brought: its senders and the users it
   * names (the rows keep their reactions, mentions and read counts: see
   * `pageRead`). The messages themselves are kept for other fields only when
   * the rows carry every column (a lean row would answer them wrong).
   */
  primeHistory(page: HistoryPage): void {
    this.primeUsers(page.senders);
    for (const m of page.messages) {
      if (page.complete) this.messages.prime(m.id, m);
      if (m['page.reactionUsers'] !== undefined) this.primeUsers(m['page.reactionUsers']);
      if (m['page.mentions'] !== undefined) this.primeUsers(m['page.mentions']);
    }
  }

  /**
   * The first readers of a page's messages at each `limit` asked, and those
   * readers as users, read now (one statement each, as the fields would): every
   * `readBy` of the page then answers at once. A page of 200 messages with 19
   * aliased `readBy` otherwise made 3,800 promises of promises, most of its
   * time and garbage (issue 17, F3). Limits out of range are left to the field.
   */
  async preloadReaders(messages: readonly Message[], limits: readonly number[]): Promise<void> {
    const valid = limits.filter((limit) => limit >= READ_BY_LIMIT.min && limit <= READ_BY_LIMIT.max);
    if (messages.length === 0 || valid.length === 0) return;
    const pages = await this.readerPages.getMany(messages.flatMap((m) => valid.map((limit) => ({ id: m.id, limit }))));
    await this.users.getMany([...new Set(pages.flat())]);
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
  reactionSummaries(message: Message): Maybe<ReactionSummary[]> {
    return pageRead(message, 'page.reactions') ?? this.reactions.get(message.id);
  }

  /** The first `limit` users who gave a reaction, in order of reacting. */
  reactionUsers(summary: ReactionSummary, limit: number): Maybe<UserView[]> {
    requireIntInRange('limit', limit, REACTION_USERS_LIMIT.min, REACTION_USERS_LIMIT.max);
    return this.usersByIds(summary.userIds.slice(0, limit));
  }

  /** The newest message of a room that is not deleted. */
  lastMessage(roomId: string): Maybe<Message | null> {
    return this.lastMessages.get(roomId);
  }

  memberCount(roomId: string): Maybe<number> {
    return this.memberCounts.get(roomId);
  }

  /**
   * A page of a room's members in join order: `limit` (1-500) after the member
   * `after` (a member of this room, exclusive), active ones only or all.
   */
  members(roomId: string, activeOnly: boolean, limit: number, after: string | null): Maybe<Member[]> {
    requireIntInRange('limit', limit, MEMBERS_LIMIT.min, MEMBERS_LIMIT.max);
    const afterId = after === null ? null : requireUuid('after', after);
    return then(this.memberPages.get({ roomId, activeOnly, limit, after: afterId }), (page) => {
      if (!page.found) throw new BadInputError(`after must name a member of this room, got "${after}"`);
      return page.members;
    });
  }

  /** Read positions of the room's active members who have read anything, most recent first, at most `limit` (1-500). */
  readReceipts(roomId: string, limit: number): Maybe<ReadPosition[]> {
    requireIntInRange('limit', limit, READ_RECEIPTS_LIMIT.min, READ_RECEIPTS_LIMIT.max);
    return this.readPositions.get({ id: roomId, limit });
  }

  /** The users a message mentions, in order (none once it is deleted). */
  mentions(message: Message): Maybe<readonly UserView[]> {
    return pageRead(message, 'page.mentions') ?? this.mentionLists.get(message.id);
  }

  /** A message's most recent `limit` (1-100) earlier versions, oldest first. */
  edits(messageId: string, limit: number): Maybe<MessageEdit[]> {
    requireIntInRange('limit', limit, EDITS_LIMIT.min, EDITS_LIMIT.max);
    return this.editPages.get({ id: messageId, limit });
  }

  /** The distinct authors of a thread's live replies, in order of their first reply (at most 10). */
  threadParticipants(parentId: string): Maybe<UserView[]> {
    return then(this.participants.get(parentId), (ids) => this.usersByIds(ids));
  }

  /** A room's pinned messages, most recently pinned first. */
  pinned(roomId: string): Maybe<Message[]> {
    return this.pins.get(roomId);
  }

  /** The files of a message, in order (at most 10). */
  attachments(messageId: string): Maybe<Attachment[]> {
    return this.attachmentLists.get(messageId);
  }

  /** How many active members other than the sender have read a message (lastReadAt at or after it). */
  readCount(message: Message): Maybe<number> {
    const read = pageRead(message, 'page.readCount');
    return read !== undefined ? (read ?? 0) : this.readCounts.get(message.id);
  }

  /**
   * The first `limit` (1-100) active members other than the sender who have
   * read a message (lastReadAt at or after its createdAt), earliest readers
   * first: read at that bound, whatever the size of the room.
   */
  readBy(message: Message, limit: number): Maybe<UserView[]> {
    requireIntInRange('limit', limit, READ_BY_LIMIT.min, READ_BY_LIMIT.max);
    return then(this.readerPages.get({ id: message.id, limit }), (ids) => this.usersByIds(ids));
  }
}
