import type { DataSource, EntityManager } from 'typeorm';
import { roomNotFound } from '../errors';
import { queryOne, queryRows } from '../../db/sql';
import { Member } from '../members/member.entity';
import { type MemberRow, toMember } from '../members/member.repository';
import { MemberRole, type Page, RoomType } from '../types';
import { Room } from './room.entity';

export interface RoomRow {
  id: string;
  type: RoomType;
  name: string | null;
  company_id: string | null;
  created_by: string | null;
  direct_user_low: string | null;
  direct_user_high: string | null;
  last_seq: number;
  created_at: Date;
  updated_at: Date;
  last_message_at: Date | null;
}

export function toRoom(row: RoomRow): Room {
  return Object.assign(new Room(), {
    id: row.id,
    type: row.type,
    name: row.name,
    companyId: row.company_id,
    createdById: row.created_by,
    directUserLow: row.direct_user_low,
    directUserHigh: row.direct_user_high,
    lastSeq: row.last_seq,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastMessageAt: row.last_message_at,
  });
}

/** A room of the caller's inbox with the caller's own membership, read in the same statement. */
export interface RoomWithMembership {
  room: Room;
  membership: Member;
}

export interface CreatedRoom {
  room: Room;
  members: Member[];
  /** False when an existing DIRECT room was returned. */
  created: boolean;
}

const orderedPair = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

function pageOf<T>(items: T[], total: number, page: number, pageSize: number): Page<T> {
  return { items, total, page, pageSize, pages: Math.ceil(total / pageSize) };
}

export class RoomRepository {
  constructor(private readonly db: DataSource) {}

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
    const rows = await queryRows<RoomRow>(this.db.manager, `SELECT * FROM rooms WHERE id = ANY($1::uuid[])`, [roomIds]);
    return rows.map(toRoom);
  }

  async findDirectChat(user1Id: string, user2Id: string): Promise<Room | null> {
    const [low, high] = orderedPair(user1Id, user2Id);
    const row = await queryOne<RoomRow>(
      this.db.manager,
      `SELECT * FROM rooms WHERE type = 'DIRECT' AND direct_user_low = $1 AND direct_user_high = $2`,
      [low, high],
    );
    return row ? toRoom(row) : null;
  }

  /**
   * The DIRECT room of two users, created with both as MEMBERs when missing. The
   * unique key on the ordered pair makes concurrent callers converge on one room:
   * the losers' INSERT waits for the winner's commit, does nothing, and reads it.
   */
  async createDirectChat(user1Id: string, user2Id: string, companyId: string | null): Promise<CreatedRoom> {
    const [low, high] = orderedPair(user1Id, user2Id);
    return this.db.transaction(async (tx) => {
      const inserted = await queryOne<RoomRow>(
        tx,
        `INSERT INTO rooms (type, company_id, created_by, direct_user_low, direct_user_high)
         VALUES ('DIRECT', $1, $2, $3, $4)
         ON CONFLICT (direct_user_low, direct_user_high) WHERE type = 'DIRECT' DO NOTHING
         RETURNING *`,
        [companyId, user1Id, low, high],
      );
      if (!inserted) {
        const existing = await queryOne<RoomRow>(
          tx,
          `SELECT * FROM rooms WHERE type = 'DIRECT' AND direct_user_low = $1 AND direct_user_high = $2`,
          [low, high],
        );
        return { room: toRoom(existing as RoomRow), members: [], created: false };
      }
      const members = await this.insertMembers(tx, inserted.id, [
        { userId: user1Id, role: MemberRole.MEMBER },
        { userId: user2Id, role: MemberRole.MEMBER },
      ]);
      return { room: toRoom(inserted), members, created: true };
    });
  }

  /** A GROUP room with the creator as OWNER and the others as MEMBERs, in one transaction. */
  async createGroupChat(
    name: string,
    creatorId: string,
    memberIds: string[],
    companyId: string | null,
  ): Promise<CreatedRoom> {
    return this.db.transaction(async (tx) => {
      const room = await queryOne<RoomRow>(
        tx,
        `INSERT INTO rooms (type, name, company_id, created_by) VALUES ('GROUP', $1, $2, $3) RETURNING *`,
        [name, companyId, creatorId],
      );
      const others = [...new Set(memberIds)].filter((id) => id !== creatorId);
      const members = await this.insertMembers(tx, (room as RoomRow).id, [
        { userId: creatorId, role: MemberRole.OWNER },
        ...others.map((userId) => ({ userId, role: MemberRole.MEMBER })),
      ]);
      return { room: toRoom(room as RoomRow), members, created: true };
    });
  }

  /**
   * Adds users to a room with `role`: new ones are inserted, removed ones come
   * back active, active ones are left as they are. Returns the members that
   * were added or brought back.
   */
  async addMembers(roomId: string, userIds: string[], role: MemberRole, _addedById: string): Promise<Member[]> {
    const rows = await queryRows<MemberRow>(
      this.db.manager,
      `INSERT INTO room_members (room_id, user_id, role)
       SELECT $1, u, $3 FROM unnest($2::uuid[]) AS u
       ON CONFLICT (room_id, user_id) DO UPDATE
         SET is_active = true, removed_at = NULL, role = EXCLUDED.role, joined_at = now()
         WHERE NOT room_members.is_active
       RETURNING *`,
      [roomId, [...new Set(userIds)], role],
    );
    return rows.map(toMember);
  }

  /** Rooms where the user is an active member, newest activity first, with that membership. */
  async getRoomsForUser(
    userId: string,
    roomType: RoomType | null,
    page: number,
    pageSize: number,
  ): Promise<Page<RoomWithMembership>> {
    const rows = await queryRows<RoomRow & { m: MemberRow; total: number }>(
      this.db.manager,
      `SELECT r.*, to_jsonb(rm) AS m, count(*) OVER ()::int AS total
       FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.user_id = $1 AND rm.is_active AND ($2::room_type IS NULL OR r.type = $2)
       ORDER BY r.last_message_at DESC NULLS LAST, r.created_at DESC, r.id
       LIMIT $3 OFFSET $4`,
      [userId, roomType, pageSize, (page - 1) * pageSize],
    );
    const total = rows.length > 0 ? rows[0].total : await this.countRoomsForUser(userId, roomType);
    const items = rows.map((row) => ({ room: toRoom(row), membership: toMember(reviveMemberJson(row.m)) }));
    return pageOf(items, total, page, pageSize);
  }

  private async countRoomsForUser(userId: string, roomType: RoomType | null): Promise<number> {
    const row = await queryOne<{ n: number }>(
      this.db.manager,
      `SELECT count(*)::int AS n FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.user_id = $1 AND rm.is_active AND ($2::room_type IS NULL OR r.type = $2)`,
      [userId, roomType],
    );
    return row?.n ?? 0;
  }

  /** GROUP rooms of a company, newest activity first. */
  async getCompanyRooms(companyId: string, page: number, pageSize: number): Promise<Page<Room>> {
    const rows = await queryRows<RoomRow & { total: number }>(
      this.db.manager,
      `SELECT r.*, count(*) OVER ()::int AS total FROM rooms r
       WHERE r.company_id = $1 AND r.type = 'GROUP'
       ORDER BY r.last_message_at DESC NULLS LAST, r.created_at DESC, r.id
       LIMIT $2 OFFSET $3`,
      [companyId, pageSize, (page - 1) * pageSize],
    );
    let total = rows[0]?.total;
    if (total === undefined) {
      const row = await queryOne<{ n: number }>(
        this.db.manager,
        `SELECT count(*)::int AS n FROM rooms WHERE company_id = $1 AND type = 'GROUP'`,
        [companyId],
      );
      total = row?.n ?? 0;
    }
    return pageOf(rows.map(toRoom), total, page, pageSize);
  }

  private async insertMembers(
    tx: EntityManager,
    roomId: string,
    members: { userId: string; role: MemberRole }[],
  ): Promise<Member[]> {
    const rows = await queryRows<MemberRow>(
      tx,
      `INSERT INTO room_members (room_id, user_id, role)
       SELECT $1, u, r FROM unnest($2::uuid[], $3::member_role[]) AS k(u, r)
       RETURNING *`,
      [roomId, members.map((m) => m.userId), members.map((m) => m.role)],
    );
    return rows.map(toMember);
  }
}

/** `to_jsonb(row)` turns timestamps into strings; bring them back to Dates. */
function reviveMemberJson(m: MemberRow): MemberRow {
  const date = (v: Date | string | null) => (v === null ? null : new Date(v));
  return {
    ...m,
    joined_at: date(m.joined_at) as Date,
    last_read_at: date(m.last_read_at),
    removed_at: date(m.removed_at),
  };
}
