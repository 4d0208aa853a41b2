import type { DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import type { Audience } from '../access/visibility';
import { afterSql, NEXT_VERSION, type Position, STAMP, stampCtes, WRITING_XACT } from '../changes/versions';
import { visibleMembershipSql } from '../access/visibility';
import { NotFoundError } from '../errors';
import { Room } from '../rooms/room.entity';
import type { UserView } from '../users/user.entity';
import type { MemberRole, MembershipEventKind } from '../types';
import { Member } from './member.entity';

/** One page of a room's members: `limit` of them after the member `after` (null: from the first). */
export interface MemberPageKey {
  roomId: string;
  activeOnly: boolean;
  limit: number;
  after: string | null;
}

/** SQL: the sorted read positions of the active members of room `roomIdSql` (an array; null when nobody has read). */
export const READ_POSITIONS_SQL = (roomIdSql: string): string =>
  `(SELECT array_agg(last_read_at ORDER BY last_read_at) FROM room_members WHERE room_id = ${roomIdSql} AND is_active AND last_read_at IS NOT NULL)`;

/**
 * SQL: how many of the sorted read positions `positionsSql` are at or after the
 * createdAt of message row `m` (width_bucket counts those before it by binary
 * search), less its sender's own when active and read that far.
 */
export const READ_COUNT_SQL = (m: string, positionsSql: string): string =>
  `(coalesce(cardinality(${positionsSql}), 0) - coalesce(width_bucket(${m}.created_at - interval '1 microsecond', ${positionsSql}), 0)
    - (SELECT count(*)::int FROM room_members s WHERE s.room_id = ${m}.room_id AND s.user_id = ${m}.sender_id AND s.is_active AND s.last_read_at >= ${m}.created_at))::int`;

export interface RoleChange {
  member: Member;
  /** Set when ownership moved: the previous owner, now ADMIN. */
  previousOwner: Member | null;
}

/** The only writer of room_members. */
export function memberRepository(dataSource: DataSource, db: Database) {
  const members = columnsOf<Member>(dataSource.getMetadata(Member));
  const rooms = columnsOf<Room>(dataSource.getMetadata(Room));
  const MEMBER = members.select('rm');
  return dataSource.getRepository(Member).extend({
    async ensureExists(memberId: string): Promise<Member> {
      const member = await this.findOneBy({ id: memberId });
      if (!member) throw new NotFoundError('Member not found');
      return member;
    },

    async findByRoomAndUser(roomId: string, userId: string): Promise<Member | null> {
      const [member] = await this.findByRoomAndUsers([{ roomId, userId }]);
      return member ?? null;
    },

    /** One statement for many (room, user) pairs; the membership loader's batch. */
    async findByRoomAndUsers(pairs: readonly { roomId: string; userId: string }[]): Promise<Member[]> {
      if (pairs.length === 0) return [];
      return db.on(this.manager).query<Member>(
        `SELECT ${MEMBER} FROM room_members rm
         JOIN unnest($1::uuid[], $2::uuid[]) AS k(room_id, user_id) ON rm.room_id = k.room_id AND rm.user_id = k.user_id`,
        [pairs.map((p) => p.roomId), pairs.map((p) => p.userId)],
      );
    },

    /** The user's memberships among `roomIds` that let them see the room (src/chat/access/visibility.ts). */
    async findVisible(userId: string, companyId: string | null, roomIds: readonly string[]): Promise<Member[]> {
      return db.on(this.manager).query<Member>(
        `SELECT ${MEMBER} FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.user_id = $1 AND rm.room_id = ANY($2::uuid[]) AND ${visibleMembershipSql('rm', 'r', '$3')}`,
        [userId, roomIds, companyId],
      );
    },

    /**
     * The rooms among `roomIds` the user may see, each with their membership,
     * in one statement. With `lock`, the memberships' rows are locked FOR SHARE
     * to the transaction's end: a ban or mute (which update the row) waits for
     * this transaction, or this waits for theirs and reads the row as they left
     * it. Lock after any message or room lock the transaction takes (message
     * rows, then rooms, then memberships).
     */
    async findVisibleWithRooms(userId: string, companyId: string | null, roomIds: readonly string[], lock = false): Promise<{ room: Room; me: Member }[]> {
      const rows = await db.on(this.manager).query<Room & Record<string, unknown>>(
        `SELECT ${rooms.select('r')}, ${members.selectPrefixed('rm', 'me')}
         FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.user_id = $1 AND rm.room_id = ANY($2::uuid[]) AND ${visibleMembershipSql('rm', 'r', '$3')}${lock ? ' FOR SHARE OF rm' : ''}`,
        [userId, roomIds, companyId],
      );
      return rows.map((row) => ({ room: rooms.own(row), me: members.pick(row, 'me') as Member }));
    },

    /** The ids of the rooms the user may see (what their all-rooms streams follow). */
    async visibleRoomIds(userId: string, companyId: string | null): Promise<string[]> {
      const rows = await db.on(this.manager).query<{ room_id: string }>(
        `SELECT rm.room_id FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$2')}`,
        [userId, companyId],
      );
      return rows.map((r) => r.room_id);
    },

    /**
     * The other members of a room whose membership changed after `since`, in
     * position order, each with the change it most likely was (a row keeps only
     * its latest state): BANNED when banned, REMOVED when inactive, ADDED when
     * they joined with or after `userId`, MUTED while muted, ROLE_CHANGED otherwise. What a new member's membership
     * stream may have missed while it started following the room.
     */
    async othersChangedAfter(roomId: string, userId: string, since: Position): Promise<(Member & { change: MembershipEventKind })[]> {
      return db.on(this.manager).query<Member & { change: MembershipEventKind }>(
        `SELECT ${MEMBER},
           CASE WHEN rm.banned_at IS NOT NULL THEN 'BANNED' WHEN NOT rm.is_active THEN 'REMOVED' WHEN rm.joined_at >= me.joined_at THEN 'ADDED'
             WHEN rm.muted_until > now() THEN 'MUTED' ELSE 'ROLE_CHANGED' END AS change
         FROM room_members rm JOIN room_members me ON me.room_id = rm.room_id AND me.user_id = $2
         WHERE rm.room_id = $1 AND rm.user_id <> $2 AND ${afterSql('rm', '$3', '$4', '$5')}
         ORDER BY rm.version_xid, rm.version`,
        [roomId, userId, since.xid, since.version, since.floor],
      );
    },

    /** The rooms where each user is an active member (whose members hear of their presence), whatever the company. */
    async activeRoomsOf(userIds: readonly string[]): Promise<{ userId: string; roomId: string }[]> {
      if (userIds.length === 0) return [];
      return db.on(this.manager).query<{ userId: string; roomId: string }>(
        `SELECT user_id AS "userId", room_id AS "roomId" FROM room_members WHERE user_id = ANY($1::uuid[]) AND is_active`,
        [userIds],
      );
    },

    /** Who may receive the room's events: its company and its active members. Null for a room that does not exist. */
    async audience(roomId: string): Promise<Audience | null> {
      const [row] = await db.on(this.manager).query<{ company_id: string | null; user_ids: string[] }>(
        `SELECT r.company_id, coalesce(array_agg(rm.user_id) FILTER (WHERE rm.user_id IS NOT NULL), '{}') AS user_ids
         FROM rooms r LEFT JOIN room_members rm ON rm.room_id = r.id AND rm.is_active
         WHERE r.id = $1 GROUP BY r.company_id`,
        [roomId],
      );
      return row ? { companyId: row.company_id, userIds: new Set(row.user_ids) } : null;
    },

    /** The seed's get_by_room: a room's members in join order (all of them: an operation pages them with `pages`). */
    async getByRoom(roomId: string, activeOnly: boolean): Promise<Member[]> {
      return this.find({ where: { roomId, ...(activeOnly && { isActive: true }) }, order: { joinedAt: 'ASC', id: 'ASC' } });
    },

    /**
     * One page of members per key, in join order: at most `limit`, after the
     * member `after` of the same room (exclusive), active ones only or all; with
     * their users; one statement, an index range scan per key on (room_id,
     * joined_at, id) that stops at the limit. `found` is false for a key whose
     * `after` names no member of its room.
     */
    async pages(keys: readonly MemberPageKey[]): Promise<{ pages: { members: Member[]; found: boolean }[]; users: UserView[] }> {
      const rows = await db.on(this.manager).query<Member & { n: string; found: boolean; 'u.displayName': string | null; 'u.companyId': string | null }>(
        `SELECT k.n, (k.after IS NULL OR a.id IS NOT NULL) AS found, ${MEMBER}, u.display_name AS "u.displayName", u.company_id AS "u.companyId"
         FROM unnest($1::uuid[], $2::bool[], $3::int[], $4::uuid[]) WITH ORDINALITY AS k(room_id, active_only, lim, after, n)
         LEFT JOIN room_members a ON a.id = k.after AND a.room_id = k.room_id
         LEFT JOIN LATERAL (
           SELECT * FROM room_members x
           WHERE x.room_id = k.room_id AND (NOT k.active_only OR x.is_active) AND (k.after IS NULL OR (x.joined_at, x.id) > (a.joined_at, a.id))
           ORDER BY x.joined_at, x.id LIMIT k.lim
         ) rm ON k.after IS NULL OR a.id IS NOT NULL
         LEFT JOIN users u ON u.id = rm.user_id
         ORDER BY k.n, rm.joined_at, rm.id`,
        [keys.map((k) => k.roomId), keys.map((k) => k.activeOnly), keys.map((k) => k.limit), keys.map((k) => k.after)],
      );
      const pages = keys.map(() => ({ members: [] as Member[], found: true }));
      const users = new Map<string, UserView>();
      for (const row of rows) {
        const page = pages[Number(row.n) - 1];
        page.found = row.found;
        if (row.id === null) continue;
        const { n: _n, found: _found, 'u.displayName': displayName, 'u.companyId': companyId, ...member } = row;
        page.members.push(member as Member);
        users.set(member.userId, { id: member.userId, displayName, companyId });
      }
      return { pages, users: [...users.values()] };
    },

    /** The read positions of each room's active members who have read anything, most recent first, at most `limit` per key; one statement. */
    async readPositions(keys: readonly { roomId: string; limit: number }[]): Promise<{ userId: string; lastReadAt: string }[][]> {
      const rows = await db.on(this.manager).query<{ n: string; user_id: string; last_read_at: string }>(
        `SELECT k.n, rp.user_id, rp.last_read_at
         FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS k(room_id, lim, n)
         CROSS JOIN LATERAL (
           SELECT user_id, last_read_at, id FROM room_members
           WHERE room_id = k.room_id AND is_active AND last_read_at IS NOT NULL
           ORDER BY last_read_at DESC, id DESC LIMIT k.lim
         ) rp
         ORDER BY k.n, rp.last_read_at DESC, rp.id DESC`,
        [keys.map((k) => k.roomId), keys.map((k) => k.limit)],
      );
      const lists = keys.map(() => [] as { userId: string; lastReadAt: string }[]);
      for (const row of rows) lists[Number(row.n) - 1].push({ userId: row.user_id, lastReadAt: row.last_read_at });
      return lists;
    },

    /**
     * The first `limit` readers of each message (active members other than the
     * sender whose lastReadAt is at or after its createdAt), earliest readers
     * first; one statement, an index range scan per key on (room_id,
     * last_read_at) that stops at the limit, whatever the room's size.
     */
    async readers(keys: readonly { messageId: string; limit: number }[]): Promise<string[][]> {
      const rows = await db.on(this.manager).query<{ n: string; user_id: string }>(
        `SELECT k.n, r.user_id
         FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS k(message_id, lim, n)
         JOIN messages m ON m.id = k.message_id
         CROSS JOIN LATERAL (
           SELECT rm.user_id, rm.last_read_at, rm.id FROM room_members rm
           WHERE rm.room_id = m.room_id AND rm.is_active AND rm.last_read_at >= m.created_at AND rm.user_id IS DISTINCT FROM m.sender_id
           ORDER BY rm.last_read_at, rm.id LIMIT k.lim
         ) r
         ORDER BY k.n, r.last_read_at, r.id`,
        [keys.map((k) => k.messageId), keys.map((k) => k.limit)],
      );
      const lists = keys.map(() => [] as string[]);
      for (const row of rows) lists[Number(row.n) - 1].push(row.user_id);
      return lists;
    },

    /**
     * How many active members other than the sender have read each message
     * (lastReadAt at or after its createdAt); one statement. Each room's read
     * positions are read once, sorted, and each message counts them by binary
     * search (width_bucket), so a message costs O(log members), not a walk of the room.
     */
    async readCounts(messageIds: readonly string[]): Promise<Map<string, number>> {
      const rows = await db.on(this.manager).query<{ id: string; n: number }>(
        `WITH m AS (SELECT id, room_id, sender_id, created_at FROM messages WHERE id = ANY($1::uuid[])),
           positions AS (
             SELECT r.room_id, ${READ_POSITIONS_SQL('r.room_id')} AS ts FROM (SELECT DISTINCT room_id FROM m) r
           )
         SELECT m.id, ${READ_COUNT_SQL('m', 'p.ts')} AS n
         FROM m JOIN positions p ON p.room_id = m.room_id`,
        [messageIds],
      );
      return new Map(rows.map((r) => [r.id, r.n]));
    },

    /** The seed's get_by_user: a user's active memberships in join order. */
    async getByUser(userId: string): Promise<Member[]> {
      return this.find({ where: { userId, isActive: true }, order: { joinedAt: 'ASC' } });
    },

    /** Active member counts per room; rooms without members are absent. */
    async countActiveByRooms(roomIds: readonly string[]): Promise<Map<string, number>> {
      const rows = await db.on(this.manager).query<{ room_id: string; n: number }>(
        `SELECT room_id, count(*)::int AS n FROM room_members
         WHERE room_id = ANY($1::uuid[]) AND is_active GROUP BY room_id`,
        [roomIds],
      );
      return new Map(rows.map((r) => [r.room_id, r.n]));
    },

    /**
     * Unread messages per room for one user: after their lastReadAt, not their own,
     * not deleted, not replies kept to their thread. Rooms where they are not an
     * active member count 0.
     */
    async unreadCounts(userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
      // One index range scan per room on (room_id, created_at): a join over all rooms lets the
      // planner misjudge a room of a million messages and scan the whole table.
      const rows = await db.on(this.manager).query<{ room_id: string; n: number }>(
        `SELECT rm.room_id, unread.n
         FROM room_members rm
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS n FROM messages m
           WHERE m.room_id = rm.room_id
             AND m.created_at > coalesce(rm.last_read_at, '-infinity')
             AND m.sender_id IS DISTINCT FROM rm.user_id
             AND NOT m.is_deleted
             AND (m.parent_id IS NULL OR m.also_in_room)
         ) unread
         WHERE rm.user_id = $1 AND rm.room_id = ANY($2::uuid[]) AND rm.is_active`,
        [userId, roomIds],
      );
      return new Map(rows.map((r) => [r.room_id, r.n]));
    },

    /** New memberships of a new room, each with its position (the transaction's id is the column's default). */
    async insertMembers(roomId: string, members: readonly { userId: string; role: MemberRole }[]): Promise<Member[]> {
      return db.on(this.manager).query<Member>(
        `INSERT INTO room_members AS rm (room_id, user_id, role, version)
         SELECT $1, k.u, k.r, ${NEXT_VERSION} FROM unnest($2::uuid[], $3::member_role[]) WITH ORDINALITY AS k(u, r, n)
         ORDER BY k.n
         RETURNING ${MEMBER}`,
        [roomId, members.map((m) => m.userId), members.map((m) => m.role)],
      );
    },

    /**
     * Adds users to a room with `role`: new ones are inserted, removed ones come
     * back active, active ones are left as they are, banned ones stay out
     * (banMember: until unbanMember). Returns the members that
     * were added or brought back (the seed's ChatRoomRepository.add_members),
     * each with `roomSeq`, the room's last seq as they came in (messages after it
     * are news to them; one sent at the same moment may count as news too).
     */
    async addMembers(roomId: string, userIds: readonly string[], role: MemberRole): Promise<(Member & { roomSeq: number })[]> {
      // Each added or returning member gets a position (the transaction's id is the column's default, EXCLUDED's too).
      return db.on(this.manager).query<Member & { roomSeq: number }>(
        `INSERT INTO room_members AS rm (room_id, user_id, role, version)
         SELECT $1, u, $3, ${NEXT_VERSION} FROM unnest($2::uuid[]) AS u
         ON CONFLICT (room_id, user_id) DO UPDATE
           SET is_active = true, removed_at = NULL, left_version = NULL, left_xid = NULL, role = EXCLUDED.role, joined_at = now(), version = EXCLUDED.version, version_xid = EXCLUDED.version_xid, version_floor = EXCLUDED.version_floor
           WHERE NOT rm.is_active AND rm.banned_at IS NULL
         RETURNING ${MEMBER}, (SELECT r.last_seq FROM rooms r WHERE r.id = $1) AS "roomSeq"`,
        [roomId, [...new Set(userIds)], role],
      );
    },

    /**
     * Soft removal: the row stays, inactive, with a new position (also kept as the
     * moment of leaving: the feed shows the room's changes up to it). Null when
     * the user was not an active member.
     */
    async removeMember(roomId: string, userId: string): Promise<Member | null> {
      const [member] = await db.on(this.manager).query<Member>(
        `WITH ${stampCtes(`SELECT id FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active`)}
         UPDATE room_members rm SET is_active = false, removed_at = now(), ${STAMP}, left_version = stamped.version, left_xid = ${WRITING_XACT}
         FROM stamped WHERE rm.id = stamped.id RETURNING ${MEMBER}`,
        [roomId, userId],
      );
      return member ?? null;
    },

    /**
     * Sets an active member's mute (`until` null: unmuted), with a new position.
     * Null when the user is not an active member, or the mute is already so
     * (nothing changed, no position).
     */
    async setMutedUntil(roomId: string, userId: string, until: string | null): Promise<Member | null> {
      const [member] = await db.on(this.manager).query<Member>(
        // Unmuting a mute that has run out changes nothing (no position, no event): it reads as not muted already.
        `WITH ${stampCtes(
          `SELECT id FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active
             AND CASE WHEN $3::timestamptz IS NULL THEN muted_until > clock_timestamp() ELSE muted_until IS DISTINCT FROM $3::timestamptz END`,
        )}
         UPDATE room_members rm SET muted_until = $3, ${STAMP} FROM stamped WHERE rm.id = stamped.id RETURNING ${MEMBER}`,
        [roomId, userId, until],
      );
      return member ?? null;
    },

    /**
     * Marks a membership that is not active (removeMember first) banned, or
     * (`banned` false) no longer banned, with a new position. Null when it was
     * so already, or is active (a ban needs the removal first). `bannedAt` is
     * the clock when this statement runs, under the room's lock: every message
     * the user sent before the ban has an earlier createdAt.
     */
    async setBanned(roomId: string, userId: string, banned: boolean): Promise<Member | null> {
      const [member] = await db.on(this.manager).query<Member>(
        `WITH ${stampCtes(`SELECT id FROM room_members WHERE room_id = $1 AND user_id = $2 AND NOT is_active AND (banned_at IS NULL) = $3`)}
         UPDATE room_members rm SET banned_at = CASE WHEN $3 THEN clock_timestamp() END, ${STAMP} FROM stamped WHERE rm.id = stamped.id RETURNING ${MEMBER}`,
        [roomId, userId, banned],
      );
      return member ?? null;
    },

    /**
     * Moves lastReadAt forward only, never past now; `moved` says whether it did
     * (a read receipt is news only then). Null when not an active member.
     */
    async updateLastRead(roomId: string, userId: string, timestamp: Date | null): Promise<{ member: Member; moved: boolean } | null> {
      const [row] = await db.on(this.manager).query<Member & { moved: boolean }>(
        `WITH target AS (SELECT id, last_read_at FROM room_members WHERE room_id = $1 AND user_id = $2 AND is_active FOR UPDATE)
         UPDATE room_members rm
         SET last_read_at = greatest(coalesce(rm.last_read_at, '-infinity'), least(coalesce($3::timestamptz, now()), now()))
         FROM target WHERE rm.id = target.id
         RETURNING ${MEMBER}, rm.last_read_at IS DISTINCT FROM target.last_read_at AS moved`,
        [roomId, userId, timestamp],
      );
      if (!row) return null;
      const { moved, ...member } = row;
      return { member: member as Member, moved };
    },

    /**
     * Unread messages that mention the user, per room: after their lastReadAt, not
     * their own, not deleted, not replies kept to their thread. An index range
     * scan per room on (user_id, room_id, created_at).
     */
    async unreadMentionCounts(userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
      const rows = await db.on(this.manager).query<{ room_id: string; n: number }>(
        `SELECT rm.room_id, unread.n
         FROM room_members rm
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS n FROM message_mentions mm JOIN messages m ON m.id = mm.message_id
           WHERE mm.user_id = rm.user_id AND mm.room_id = rm.room_id
             AND mm.created_at > coalesce(rm.last_read_at, '-infinity')
             AND m.sender_id IS DISTINCT FROM rm.user_id AND NOT m.is_deleted AND (m.parent_id IS NULL OR m.also_in_room)
         ) unread
         WHERE rm.user_id = $1 AND rm.room_id = ANY($2::uuid[]) AND rm.is_active`,
        [userId, roomIds],
      );
      return new Map(rows.map((r) => [r.room_id, r.n]));
    },

    /**
     * Changes an active member's role. With `formerOwnerRole` it hands
     * ownership over: the current OWNER takes that role first (the
     * one-active-OWNER index is checked row by row), then the new role is set
     * and both rows get their versions. Run it in a transaction holding the
     * room's lock (MemberService does), so there is exactly one active OWNER.
     * Null when `userId` is not an active member (then nothing has changed,
     * or the caller rolls the demotion back).
     */
    async updateRole(roomId: string, userId: string, newRole: MemberRole, formerOwnerRole: MemberRole | null): Promise<RoleChange | null> {
      let previousOwner: Member | null = null;
      if (formerOwnerRole !== null) {
        // Plain update: its row stays locked to the end; the stamp below gives both rows their positions.
        [previousOwner = null] = await db.on(this.manager).query<Member>(
          `UPDATE room_members rm SET role = $3
           WHERE rm.room_id = $1 AND rm.role = 'OWNER' AND rm.is_active AND rm.user_id <> $2 RETURNING ${MEMBER}`,
          [roomId, userId, formerOwnerRole],
        );
      }
      const rows = await db.on(this.manager).query<Member>(
        `WITH ${stampCtes(`SELECT id FROM room_members WHERE id = ANY($4::uuid[]) OR (room_id = $1 AND user_id = $2 AND is_active)`)}
         UPDATE room_members rm SET role = CASE WHEN rm.user_id = $2 THEN $3::member_role ELSE rm.role END, ${STAMP}
         FROM stamped WHERE rm.id = stamped.id RETURNING ${MEMBER}`,
        [roomId, userId, newRole, previousOwner ? [previousOwner.id] : []],
      );
      const member = rows.find((m) => m.userId === userId);
      if (!member) return null;
      return { member, previousOwner: rows.find((m) => m.userId !== userId) ?? null };
    },
  });
}

export type MemberRepository = ReturnType<typeof memberRepository>;

