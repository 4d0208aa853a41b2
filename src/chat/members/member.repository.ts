import type { DataSource, EntityManager } from 'typeorm';
import { ForbiddenError, NotFoundError } from '../errors';
import { queryOne, queryRows } from '../../db/sql';
import { MemberRole } from '../types';
import { Member } from './member.entity';

export interface MemberRow {
  id: string;
  room_id: string;
  user_id: string;
  role: MemberRole;
  is_active: boolean;
  joined_at: Date;
  last_read_at: Date | null;
  removed_at: Date | null;
}

export function toMember(row: MemberRow): Member {
  return Object.assign(new Member(), {
    id: row.id,
    roomId: row.room_id,
    userId: row.user_id,
    role: row.role,
    isActive: row.is_active,
    joinedAt: row.joined_at,
    lastReadAt: row.last_read_at,
    removedAt: row.removed_at,
  });
}

export interface RoleChange {
  member: Member;
  /** Set when ownership moved: the previous owner, now ADMIN. */
  previousOwner: Member | null;
}

export class MemberRepository {
  constructor(private readonly db: DataSource) {}

  async ensureExists(memberId: string): Promise<Member> {
    const row = await queryOne<MemberRow>(this.db.manager, `SELECT * FROM room_members WHERE id = $1`, [memberId]);
    if (!row) throw new NotFoundError('Member not found');
    return toMember(row);
  }

  async findByRoomAndUser(roomId: string, userId: string): Promise<Member | null> {
    const [member] = await this.findByRoomAndUsers([{ roomId, userId }]);
    return member ?? null;
  }

  /** One statement for many (room, user) pairs; the membership loader's batch. */
  async findByRoomAndUsers(pairs: readonly { roomId: string; userId: string }[]): Promise<Member[]> {
    if (pairs.length === 0) return [];
    const rows = await queryRows<MemberRow>(
      this.db.manager,
      `SELECT rm.* FROM room_members rm
       JOIN unnest($1::uuid[], $2::uuid[]) AS k(room_id, user_id)
         ON rm.room_id = k.room_id AND rm.user_id = k.user_id`,
      [pairs.map((p) => p.roomId), pairs.map((p) => p.userId)],
    );
    return rows.map(toMember);
  }

  async getByRoom(roomId: string, activeOnly: boolean): Promise<Member[]> {
    return this.getByRooms([roomId], activeOnly);
  }

  /** Members of many rooms in join order. */
  async getByRooms(roomIds: readonly string[], activeOnly: boolean): Promise<Member[]> {
    const rows = await queryRows<MemberRow>(
      this.db.manager,
      `SELECT * FROM room_members WHERE room_id = ANY($1::uuid[]) ${activeOnly ? 'AND is_active' : ''}
       ORDER BY joined_at, id`,
      [roomIds],
    );
    return rows.map(toMember);
  }

  async getByUser(userId: string): Promise<Member[]> {
    const rows = await queryRows<MemberRow>(
      this.db.manager,
      `SELECT * FROM room_members WHERE user_id = $1 AND is_active ORDER BY joined_at`,
      [userId],
    );
    return rows.map(toMember);
  }

  /** Active member counts per room; rooms without members are absent. */
  async countActiveByRooms(roomIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await queryRows<{ room_id: string; n: number }>(
      this.db.manager,
      `SELECT room_id, count(*)::int AS n FROM room_members
       WHERE room_id = ANY($1::uuid[]) AND is_active GROUP BY room_id`,
      [roomIds],
    );
    return new Map(rows.map((r) => [r.room_id, r.n]));
  }

  /**
   * Unread messages per room for one user: after their lastReadAt, not their own,
   * not deleted. Rooms where they are not an active member count 0.
   */
  async unreadCounts(userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
    // One index range scan per room on (room_id, created_at): a join over all rooms lets the
    // planner misjudge a room of a million messages and scan the whole table.
    const rows = await queryRows<{ room_id: string; n: number }>(
      this.db.manager,
      `SELECT rm.room_id, unread.n
       FROM room_members rm
       CROSS JOIN LATERAL (
         SELECT count(*)::int AS n FROM messages m
         WHERE m.room_id = rm.room_id
           AND m.created_at > coalesce(rm.last_read_at, '-infinity')
           AND m.sender_id IS DISTINCT FROM rm.user_id
           AND NOT m.is_deleted
       ) unread
       WHERE rm.user_id = $1 AND rm.room_id = ANY($2::uuid[]) AND rm.is_active`,
      [userId, roomIds],
    );
    return new Map(rows.map((r) => [r.room_id, r.n]));
  }

  /** Soft removal: the row stays, inactive. Null when the user was not an active member. */
  async removeMember(roomId: string, userId: string, _removedById: string): Promise<Member | null> {
    const row = await queryOne<MemberRow>(
      this.db.manager,
      `UPDATE room_members SET is_active = false, removed_at = now()
       WHERE room_id = $1 AND user_id = $2 AND is_active RETURNING *`,
      [roomId, userId],
    );
    return row ? toMember(row) : null;
  }

  /** Moves lastReadAt forward only, never past now. Null when not an active member. */
  async updateLastRead(roomId: string, userId: string, timestamp: Date | null): Promise<Member | null> {
    const row = await queryOne<MemberRow>(
      this.db.manager,
      `UPDATE room_members
       SET last_read_at = greatest(coalesce(last_read_at, '-infinity'), least(coalesce($3::timestamptz, now()), now()))
       WHERE room_id = $1 AND user_id = $2 AND is_active RETURNING *`,
      [roomId, userId, timestamp],
    );
    return row ? toMember(row) : null;
  }

  /**
   * Changes an active member's role. Giving OWNER hands ownership over: the
   * current owner becomes ADMIN in the same transaction, under the room's row
   * lock, so there is exactly one active OWNER whatever runs concurrently.
   */
  async updateRole(roomId: string, userId: string, newRole: MemberRole, updatedById: string): Promise<RoleChange> {
    return this.db.transaction(async (tx: EntityManager) => {
      await tx.query(`SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE`, [roomId]);
      // Checked again under the lock: a concurrent hand-over may have made the caller an ADMIN.
      const updater = await queryOne<{ role: MemberRole }>(
        tx,
        `SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active`,
        [roomId, updatedById],
      );
      if (updater?.role !== MemberRole.OWNER) throw new ForbiddenError('Only the OWNER can change roles');
      let previousOwner: Member | null = null;
      if (newRole === MemberRole.OWNER) {
        const demoted = await queryOne<MemberRow>(
          tx,
          `UPDATE room_members SET role = 'ADMIN'
           WHERE room_id = $1 AND role = 'OWNER' AND is_active AND user_id <> $2 RETURNING *`,
          [roomId, userId],
        );
        previousOwner = demoted ? toMember(demoted) : null;
      }
      const row = await queryOne<MemberRow>(
        tx,
        `UPDATE room_members SET role = $3 WHERE room_id = $1 AND user_id = $2 AND is_active RETURNING *`,
        [roomId, userId, newRole],
      );
      // Throwing rolls the demotion back too.
      if (!row) throw new NotFoundError('Member not found');
      return { member: toMember(row), previousOwner };
    });
  }
}
