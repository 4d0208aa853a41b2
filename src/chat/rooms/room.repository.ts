import type { Queryable } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { roomNotFound } from '../errors';
import { membersTable, type Member } from '../members/member.table';
import { messagesTable, type Message } from '../messages/message.table';
import type { UserView } from '../users/user.table';
import type { Page, RoomType } from '../types';
import { roomsTable as t, type Room } from './room.table';

const ROOM = t.select('r');

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
const inboxStatements = new Map<string, string>();

/**
 * The inbox statement: the page of visible rooms (with the caller's membership
 * and the total) first, then, per room of the page only, what was selected:
 * the active member count, the unread count (an index range scan per room on
 * (room_id, created_at): a join over all rooms lets the planner misjudge a
 * room of a million messages) and the last message with its sender.
 */
function inboxSql(extras: InboxExtras): string {
  const key = `${extras.memberCount}:${extras.unreadCount}:${extras.lastMessage}`;
  let text = inboxStatements.get(key);
  if (text !== undefined) return text;
  const columns = [`${t.select('r')}`, membersTable.selectPrefixed('rm', 'm'), 'p.total'];
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
    columns.push(messagesTable.selectPrefixed('lm', 'lm'), 'ls.display_name AS "ls.displayName"', 'ls.company_id AS "ls.companyId"');
    joins.push(`LEFT JOIN LATERAL (
        SELECT * FROM messages WHERE room_id = r.id AND NOT is_deleted AND (parent_id IS NULL OR also_in_room) ORDER BY seq DESC LIMIT 1
      ) lm ON true
      LEFT JOIN users ls ON ls.id = lm.sender_id`);
  }
  text = `WITH p AS (
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
  inboxStatements.set(key, text);
  return text;
}

/** The room's own columns of an inbox row (no prefixed record, no extras). */
function pickOwn(row: Record<string, unknown>): Record<string, unknown> {
  const room: Record<string, unknown> = {};
  for (const key of Object.keys(t.columns)) room[key] = row[key];
  return room;
}

const orderedPair = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

function pageOf<T>(items: T[], total: number, page: number, pageSize: number): Page<T> {
  return { items, total, page, pageSize, pages: Math.ceil(total / pageSize) };
}

export class RoomRepository {
  constructor(private readonly db: Queryable) {}

  async ensureExists(roomId: string): Promise<Room> {
    const room = await this.findById(roomId);
    if (!room) throw roomNotFound();
    return room;
  }

  async findById(roomId: string): Promise<Room | null> {
    const [room] = await this.findByIds([roomId]);
    return room ?? null;
  }

  async findByIds(roomIds: readonly string[]): Promise<Room[]> {
    return this.db.query<Room>(`SELECT ${ROOM} FROM rooms r WHERE r.id = ANY($1::uuid[])`, [roomIds]);
  }

  async findDirectChat(user1Id: string, user2Id: string): Promise<Room | null> {
    const [low, high] = orderedPair(user1Id, user2Id);
    const [room] = await this.db.query<Room>(
      `SELECT ${ROOM} FROM rooms r WHERE r.type = 'DIRECT' AND r.direct_user_low = $1 AND r.direct_user_high = $2`,
      [low, high],
    );
    return room ?? null;
  }

  /**
   * Inserts the DIRECT room of two users unless it exists; null when it did. The
   * unique key on the ordered pair makes concurrent callers converge on one
   * room: a loser's INSERT waits for the winner's commit and does nothing.
   */
  async insertDirectChat(user1Id: string, user2Id: string, companyId: string | null): Promise<Room | null> {
    const [low, high] = orderedPair(user1Id, user2Id);
    const [room] = await this.db.query<Room>(
      `INSERT INTO rooms AS r (type, company_id, created_by, direct_user_low, direct_user_high)
       VALUES ('DIRECT', $1, $2, $3, $4)
       ON CONFLICT (direct_user_low, direct_user_high) WHERE type = 'DIRECT' DO NOTHING
       RETURNING ${ROOM}`,
      [companyId, user1Id, low, high],
    );
    return room ?? null;
  }

  async insertGroupChat(name: string, creatorId: string, companyId: string | null): Promise<Room> {
    const [room] = await this.db.query<Room>(
      `INSERT INTO rooms AS r (type, name, company_id, created_by) VALUES ('GROUP', $1, $2, $3) RETURNING ${ROOM}`,
      [name, companyId, creatorId],
    );
    return room;
  }

  /** Locks the room's row until the transaction ends (ownership moves under it). */
  async lock(roomId: string): Promise<void> {
    await this.db.query(`SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE`, [roomId]);
  }

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
    const rows = await this.db.query<Record<string, unknown> & { total: number }>(inboxSql(extras), [
      userId,
      roomType,
      pageSize,
      (page - 1) * pageSize,
      companyId,
    ]);
    const total = rows.length > 0 ? rows[0].total : await this.countRoomsForUser(userId, companyId, roomType);
    const items = rows.map((row): RoomWithMembership => {
      const item: RoomWithMembership = { room: pickOwn(row) as Room, membership: membersTable.pick(row, 'm') as Member };
      if (extras.memberCount) item.memberCount = row.memberCount as number;
      if (extras.unreadCount) item.unreadCount = row.unreadCount as number;
      if (extras.lastMessage) {
        item.lastMessage = messagesTable.pick(row, 'lm');
        item.lastMessageSender =
          item.lastMessage?.senderId == null
            ? null
            : { id: item.lastMessage.senderId, displayName: row['ls.displayName'] as string | null, companyId: row['ls.companyId'] as string | null };
      }
      return item;
    });
    return pageOf(items, total, page, pageSize);
  }

  private async countRoomsForUser(userId: string, companyId: string | null, roomType: RoomType | null): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$3')} AND ($2::room_type IS NULL OR r.type = $2)`,
      [userId, roomType, companyId],
    );
    return row?.n ?? 0;
  }

  /** GROUP rooms of a company, newest activity first. */
  async getCompanyRooms(companyId: string, page: number, pageSize: number): Promise<Page<Room>> {
    const rows = await this.db.query<Room & { total?: number }>(
      `SELECT ${ROOM}, count(*) OVER ()::int AS total FROM rooms r
       WHERE r.company_id = $1 AND r.type = 'GROUP'
       ORDER BY r.last_message_at DESC NULLS LAST, r.created_at DESC, r.id
       LIMIT $2 OFFSET $3`,
      [companyId, pageSize, (page - 1) * pageSize],
    );
    let total = rows[0]?.total;
    if (total === undefined) {
      const [row] = await this.db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM rooms WHERE company_id = $1 AND type = 'GROUP'`,
        [companyId],
      );
      total = row?.n ?? 0;
    }
    for (const room of rows) delete room.total;
    return pageOf(rows, total, page, pageSize);
  }
}
