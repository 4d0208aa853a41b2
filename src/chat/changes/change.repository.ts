import type { DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import { roomOfCompanySql } from '../access/visibility';
import { Member } from '../members/member.entity';
import { Message } from '../messages/message.entity';
import { VERSION_LOCK_KEY } from './versions';

/** A changed message, and whether the reader has left its room since (then it is as it was when they left). */
export type ChangedMessage = Message & { roomLeft: boolean };

/** What changed after a version, for one user, each list in version order and one longer than asked (to tell `hasMore`). */
export interface ChangedRows {
  messages: Message[];
  memberships: Member[];
}

/** The changes feed's statements (the seed had none: a feed is what offline clients catch up with). */
export function changeRepository(dataSource: DataSource, db: Database) {
  const MESSAGE = columnsOf<Message>(dataSource.getMetadata(Message)).select('m');
  const MEMBER = columnsOf<Member>(dataSource.getMetadata(Member)).select('rm');
  return dataSource.getRepository(Message).extend({
    /**
     * The newest committed version. Taken under the version lock in shared mode:
     * a writer holds it exclusively from taking its number to committing, so once
     * it is ours, no number up to the sequence's value is still uncommitted.
     * Always on the primary: a standby's copy of the sequence runs up to 32
     * numbers ahead, before their transactions commit, and its lock waits for no writer.
     */
    async currentVersion(): Promise<string> {
      const [row] = await db.on(this.manager).query<{ version: string }>(
        `SELECT s.last_value::text AS version
         FROM (SELECT pg_advisory_xact_lock_shared(${VERSION_LOCK_KEY})::text AS held) AS version_lock
         CROSS JOIN LATERAL (SELECT last_value FROM change_version_seq WHERE version_lock.held IS NOT DISTINCT FROM version_lock.held) AS s`,
        [],
        { primary: true },
      );
      return row.version;
    },

    /**
     * Messages with a version after `since` in the rooms the user may see (the
     * visibility rule, src/chat/access/visibility.ts) or has left, those only up
     * to the moment of leaving (`roomLeft`); optionally of one room. One index range scan per
     * room on (room_id, version), at most `limit` each, merged in version order.
     */
    async messagesAfter(userId: string, companyId: string | null, since: string, limit: number, roomId: string | null = null): Promise<ChangedMessage[]> {
      return db.on(this.manager).query<ChangedMessage>(
        `WITH mine AS (
           SELECT rm.room_id, rm.is_active, rm.left_version
           FROM room_members rm JOIN rooms r ON r.id = rm.room_id
           WHERE rm.user_id = $1 AND (rm.is_active OR rm.left_version IS NOT NULL)
             AND ${roomOfCompanySql('r', '$2')}
             AND ($5::uuid IS NULL OR rm.room_id = $5)
         )
         SELECT ${MESSAGE}, NOT mine.is_active AS "roomLeft" FROM mine
         CROSS JOIN LATERAL (
           SELECT * FROM messages x
           WHERE x.room_id = mine.room_id AND x.version > $3::bigint AND (mine.is_active OR x.version < mine.left_version)
           ORDER BY x.version LIMIT $4
         ) m
         ORDER BY m.version LIMIT $4`,
        [userId, companyId, since, limit, roomId],
      );
    },

    /** The user's own memberships (of rooms of their company) with a version after `since`, in version order. */
    async membershipsAfter(userId: string, companyId: string | null, since: string, limit: number): Promise<Member[]> {
      return db.on(this.manager).query<Member>(
        `SELECT ${MEMBER} FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.user_id = $1 AND ${roomOfCompanySql('r', '$2')} AND rm.version > $3::bigint
         ORDER BY rm.version LIMIT $4`,
        [userId, companyId, since, limit],
      );
    },
  });
}

export type ChangeRepository = ReturnType<typeof changeRepository>;

