import type { Queryable } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { roomNotFound } from '../errors';
import { membersTable, type Member } from '../members/member.table';
import type { Page, RoomType } from '../types';
import { roomsTable as t, type Room } from './room.table';

const ROOM = t.select('r');

/** A room of the caller's inbox with the caller's own membership, read in the same statement. */
export interface RoomWithMembership {
  room: Room;
  membership: Member;
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
   * first, each with that membership, and the total, in one statement.
   */
  async getRoomsForUser(
    userId: string,
    companyId: string | null,
    roomType: RoomType | null,
    page: number,
    pageSize: number,
  ): Promise<Page<RoomWithMembership>> {
    const rows = await this.db.query<Record<string, unknown> & { total: number }>(
      `SELECT ${ROOM}, ${membersTable.selectPrefixed('rm', 'm')}, count(*) OVER ()::int AS total
       FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$5')} AND ($2::room_type IS NULL OR r.type = $2)
       ORDER BY r.last_message_at DESC NULLS LAST, r.created_at DESC, r.id
       LIMIT $3 OFFSET $4`,
      [userId, roomType, pageSize, (page - 1) * pageSize, companyId],
    );
    const total = rows.length > 0 ? rows[0].total : await this.countRoomsForUser(userId, companyId, roomType);
    const items = rows.map((row) => ({ room: row as unknown as Room, membership: membersTable.pick(row, 'm') as Member }));
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
