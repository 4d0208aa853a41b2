import type { DataSource } from 'typeorm';
import { columnsOf, type Columns } from '../../db/columns';
import type { Database } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { roomNotFound } from '../errors';
import { Member } from '../members/member.entity';
import { Message } from '../messages/message.entity';
import type { UserView } from '../users/user.entity';
import { RoomType, type Page } from '../types';
import { Room } from './room.entity';

/** A room of the caller's inbox with the caller's own membership, and what else was asked for, read in the same statement. */
export interface RoomWithMembership {
  room: Room;
  membership: Member;
  /** Active members (when asked for). */
  memberCount?: number;
  /** The caller's unread messages (when asked for). */
  unreadCount?: number;
  /** The newest message that is not deleted, and its sender (when asked for). */
  lastMessage?: Message | null;
  lastMessageSender?: UserView | null;
}

/** What an inbox page reads besides the rooms: each costs nothing unless the client selected it. */
export interface InboxExtras {
  memberCount: boolean;
  unreadCount: boolean;
  lastMessage: boolean;
}

const NO_EXTRAS: InboxExtras = { memberCount: false, unreadCount: false, lastMessage: false };

/** The select lists the hand-tuned statements read, from the entities' metadata. */
interface RoomColumns {
  room: Columns<Room>;
  member: Columns<Member>;
  message: Columns<Message>;
}

/**
 * The inbox statement: the page of visible rooms (with the caller's membership
 * and the total) first, then, per room of the page only, what was selected:
 * the active member count, the unread count (an index range scan per room on
 * (room_id, created_at): a join over all rooms lets the planner misjudge a
 * room of a million messages) and the last message with its sender.
 */
function inboxSql(cols: RoomColumns, extras: InboxExtras): string {
  const columns = [cols.room.select('r'), cols.member.selectPrefixed('rm', 'm'), 'p.total'];
  const joins: string[] = [];
  if (extras.memberCount) {
    columns.push('mc.n AS "memberCount"');
    joins.push(`CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM room_members c WHERE c.room_id = r.id AND c.is_active) mc`);
  }
  if (extras.unreadCount) {
    columns.push('uc.n AS "unreadCount"');
    joins.push(`CROSS JOIN LATERAL (
      SELECT count(*)::int AS n FROM messages um
      WHERE um.room_id = r.id AND um.created_at > coalesce(rm.last_read_at, '-infinity')
        AND um.sender_id IS DISTINCT FROM rm.user_id AND NOT um.is_deleted AND (um.parent_id IS NULL OR um.also_in_room)) uc`);
  }
  if (extras.lastMessage) {
    columns.push(cols.message.selectPrefixed('lm', 'lm'), 'ls.display_name AS "ls.displayName"', 'ls.company_id AS "ls.companyId"');
    joins.push(`LEFT JOIN LATERAL (
        SELECT * FROM messages WHERE room_id = r.id AND NOT is_deleted AND (parent_id IS NULL OR also_in_room) ORDER BY seq DESC LIMIT 1
      ) lm ON true
      LEFT JOIN users ls ON ls.id = lm.sender_id`);
  }
  return `WITH p AS (
      SELECT rm.id AS member_id, count(*) OVER ()::int AS total
      FROM room_members rm JOIN rooms r ON r.id = rm.room_id
      WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$5')} AND ($2::room_type IS NULL OR r.type = $2)
      ORDER BY r.last_message_at DESC NULLS LAST, r.created_at DESC, r.id
      LIMIT $3 OFFSET $4
    )
    SELECT ${columns.join(', ')}
    FROM p JOIN room_members rm ON rm.id = p.member_id JOIN rooms r ON r.id = rm.room_id
    ${joins.join('\n    ')}
    ORDER BY r.last_message_at DESC NULLS LAST, r.created_at DESC, r.id`;
}

const orderedPair = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

function pageOf<T>(items: T[], total: number, page: number, pageSize: number): Page<T> {
  return { items, total, page, pageSize, pages: Math.ceil(total / pageSize) };
}

/**
 * The rooms table. The inbox (the rooms of a user with what the page shows of
 * each) and the DIRECT room's insert are hand-tuned statements, and so is
 * `findByIds` (every request's room look-up); the rest is TypeORM's API.
 */
export function roomRepository(dataSource: DataSource, db: Database) {
  const cols: RoomColumns = {
    room: columnsOf<Room>(dataSource.getMetadata(Room)),
    member: columnsOf<Member>(dataSource.getMetadata(Member)),
    message: columnsOf<Message>(dataSource.getMetadata(Message)),
  };
  const ROOM = cols.room.select('r');
  const inboxStatements = new Map<string, string>();
  const inbox = (extras: InboxExtras): string => {
    const key = `${extras.memberCount}:${extras.unreadCount}:${extras.lastMessage}`;
    let text = inboxStatements.get(key);
    if (text === undefined) inboxStatements.set(key, (text = inboxSql(cols, extras)));
    return text;
  };
  return dataSource.getRepository(Room).extend({
    async ensureExists(roomId: string): Promise<Room> {
      const room = await this.findById(roomId);
      if (!room) throw roomNotFound();
      return room;
    },

    async findById(roomId: string): Promise<Room | null> {
      return this.findOneBy({ id: roomId });
    },

    /** The rooms of many ids, in one named statement (the loaders' batch). */
    async findByIds(roomIds: readonly string[]): Promise<Room[]> {
      return db.on(this.manager).query<Room>(`SELECT ${ROOM} FROM rooms r WHERE r.id = ANY($1::uuid[])`, [roomIds]);
    },

    async findDirectChat(user1Id: string, user2Id: string): Promise<Room | null> {
      const [low, high] = orderedPair(user1Id, user2Id);
      return this.findOneBy({ type: RoomType.DIRECT, directUserLow: low, directUserHigh: high });
    },

    /**
     * Inserts the DIRECT room of two users unless it exists; null when it did. The
     * unique key on the ordered pair makes concurrent callers converge on one
     * room: a loser's INSERT waits for the winner's commit and does nothing.
     */
    async insertDirectChat(user1Id: string, user2Id: string, companyId: string | null): Promise<Room | null> {
      const [low, high] = orderedPair(user1Id, user2Id);
      // ON CONFLICT names the partial unique index, which TypeORM's orIgnore() cannot.
      const [room] = await db.on(this.manager).query<Room>(
        `INSERT INTO rooms AS r (type, company_id, created_by, direct_user_low, direct_user_high)
         VALUES ('DIRECT', $1, $2, $3, $4)
         ON CONFLICT (direct_user_low, direct_user_high) WHERE type = 'DIRECT' DO NOTHING
         RETURNING ${ROOM}`,
        [companyId, user1Id, low, high],
      );
      return room ?? null;
    },

    async insertGroupChat(name: string, creatorId: string, companyId: string | null): Promise<Room> {
      const { identifiers } = await this.insert({ type: RoomType.GROUP, name, companyId, createdById: creatorId });
      return (await this.findOneBy({ id: identifiers[0].id as string })) as Room;
    },

    /** Sets the room's slow mode (0: off); the room as it is after. */
    async setSlowMode(roomId: string, seconds: number): Promise<Room> {
      const [room] = await db.on(this.manager).query<Room>(
        `UPDATE rooms r SET slow_mode_seconds = $2, updated_at = clock_timestamp() WHERE r.id = $1 RETURNING ${ROOM}`,
        [roomId, seconds],
      );
      if (!room) throw roomNotFound();
      return room;
    },

    /** Locks the room's row until the transaction ends (ownership moves under it, and moderation). */
    async lock(roomId: string): Promise<void> {
      await this.createQueryBuilder('r').select('r.id').where('r.id = :roomId', { roomId }).setLock('pessimistic_write').getOne();
    },

    /**
     * Rooms the user may see (src/chat/access/visibility.ts), newest activity
     * first, each with that membership and the `extras` asked for, and the
     * total, in one statement (a second one counts only when the page is empty).
     * The seed's get_rooms_for_user.
     */
    async getRoomsForUser(
      userId: string,
      companyId: string | null,
      roomType: RoomType | null,
      page: number,
      pageSize: number,
      extras: InboxExtras = NO_EXTRAS,
    ): Promise<Page<RoomWithMembership>> {
      const rows = await db.on(this.manager).query<Record<string, unknown> & { total: number }>(inbox(extras), [
        userId,
        roomType,
        pageSize,
        (page - 1) * pageSize,
        companyId,
      ]);
      const total = rows.length > 0 ? rows[0].total : await this.countRoomsForUser(userId, companyId, roomType);
      const items = rows.map((row): RoomWithMembership => {
        const item: RoomWithMembership = { room: cols.room.own(row), membership: cols.member.pick(row, 'm') as Member };
        if (extras.memberCount) item.memberCount = row.memberCount as number;
        if (extras.unreadCount) item.unreadCount = row.unreadCount as number;
        if (extras.lastMessage) {
          item.lastMessage = cols.message.pick(row, 'lm');
          item.lastMessageSender =
            item.lastMessage?.senderId == null
              ? null
              : { id: item.lastMessage.senderId, displayName: row['ls.displayName'] as string | null, companyId: row['ls.companyId'] as string | null };
        }
        return item;
      });
      return pageOf(items, total, page, pageSize);
    },

    async countRoomsForUser(userId: string, companyId: string | null, roomType: RoomType | null): Promise<number> {
      const [row] = await db.on(this.manager).query<{ n: number }>(
        `SELECT count(*)::int AS n FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$3')} AND ($2::room_type IS NULL OR r.type = $2)`,
        [userId, roomType, companyId],
      );
      return row?.n ?? 0;
    },

    /** GROUP rooms of a company, newest activity first. */
    async getCompanyRooms(companyId: string, page: number, pageSize: number): Promise<Page<Room>> {
      const [items, total] = await this.createQueryBuilder('r')
        .where('r.companyId = :companyId AND r.type = :type', { companyId, type: RoomType.GROUP })
        .orderBy('r.lastMessageAt', 'DESC', 'NULLS LAST')
        .addOrderBy('r.createdAt', 'DESC')
        .addOrderBy('r.id')
        .skip((page - 1) * pageSize)
        .take(pageSize)
        .getManyAndCount();
      return pageOf(items, total, page, pageSize);
    },
  });
}

export type RoomRepository = ReturnType<typeof roomRepository>;
