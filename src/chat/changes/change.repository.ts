import type { DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import { roomOfCompanySql } from '../access/visibility';
import { Member } from '../members/member.entity';
import { Message } from '../messages/message.entity';
import { afterSql, type Position, WATERMARK } from './versions';

/** A changed message, and whether the reader has left its room since (then it is as it was when they left). */
export type ChangedMessage = Message & { roomLeft: boolean };

/**
 * Committed rows after a position, in position order, and the watermark of the
 * statement that read them: the rows below it are final; one above it may yet
 * have a change still in flight before it (src/chat/changes/versions.ts). The
 * changes feed pages only below it; a stream's replay takes them all (live
 * events follow it: a change committing after the read reaches the stream as
 * an event).
 */
export interface ChangedAfter<T> {
  rows: T[];
  watermark: string;
}

/** The changes feed's statements (the seed had none: a feed is what offline clients catch up with). */
export function changeRepository(dataSource: DataSource, db: Database) {
  const MESSAGE = columnsOf<Message>(dataSource.getMetadata(Message)).select('m');
  const MEMBER = columnsOf<Member>(dataSource.getMetadata(Member)).select('rm');
  return dataSource.getRepository(Message).extend({
    /**
     * Where the order of changes stands now: `below`, the watermark (every
     * transaction below it has ended), and `next`, the first transaction id not
     * yet given (every change committed so far is below it). Read on the
     * primary: a standby's is only as new as its replay, so a cursor from it
     * would make the client read again what it has.
     */
    async now(): Promise<{ below: string; next: string }> {
      const [row] = await db.on(this.manager).query<{ below: string; next: string }>(
        `SELECT ${WATERMARK}::text AS below, pg_snapshot_xmax(pg_current_snapshot())::text AS next`,
        [],
        { primary: true },
      );
      return row;
    },

    /**
     * Messages changed after `since` (src/chat/changes/versions.ts: Position) in the rooms the user may see (the
     * visibility rule, src/chat/access/visibility.ts) or has left, those only up
     * to the moment of leaving (`roomLeft`); optionally of one room. One index range scan per room on (room_id, version_xid,
     * version), at most `limit` each, merged in position order.
     */
    async messagesAfter(
      userId: string,
      companyId: string | null,
      since: Position,
      limit: number,
      roomId: string | null = null,
    ): Promise<ChangedAfter<ChangedMessage>> {
      const rows = await db.on(this.manager).query<ChangedMessage & { watermark: string }>(
        `WITH w AS (SELECT ${WATERMARK} AS below),
         mine AS (
           SELECT rm.room_id, rm.is_active, rm.left_xid, rm.left_version
           FROM room_members rm JOIN rooms r ON r.id = rm.room_id
           WHERE rm.user_id = $1 AND (rm.is_active OR rm.left_version IS NOT NULL)
             AND ${roomOfCompanySql('r', '$2')}
             AND ($6::uuid IS NULL OR rm.room_id = $6)
         )
         SELECT ${MESSAGE}, NOT mine.is_active AS "roomLeft", (SELECT below FROM w)::text AS watermark
         FROM mine
         CROSS JOIN LATERAL (
           SELECT * FROM messages x
           WHERE x.room_id = mine.room_id AND ${afterSql('x', '$3', '$4', '$7')}
             AND (mine.is_active OR (x.version_xid, x.version) < (mine.left_xid, mine.left_version))
           ORDER BY x.version_xid, x.version LIMIT $5
         ) m
         RIGHT JOIN (SELECT 1) AS one ON true
         ORDER BY m.version_xid, m.version LIMIT $5`,
        [userId, companyId, since.xid, since.version, limit, roomId, since.floor],
      );
      return { rows: rows.filter((r) => r.id !== null).map(({ watermark: _w, ...m }) => m as ChangedMessage), watermark: rows[0].watermark };
    },

    /** The user's own memberships (of rooms of their company) changed after `since`, in position order. */
    async membershipsAfter(userId: string, companyId: string | null, since: Position, limit: number): Promise<ChangedAfter<Member>> {
      const rows = await db.on(this.manager).query<Member & { watermark: string }>(
        `WITH w AS (SELECT ${WATERMARK} AS below)
         SELECT ${MEMBER}, (SELECT below FROM w)::text AS watermark
         FROM (SELECT 1) AS one
         LEFT JOIN LATERAL (
           SELECT rm.* FROM room_members rm JOIN rooms r ON r.id = rm.room_id
           WHERE rm.user_id = $1 AND ${roomOfCompanySql('r', '$2')}
             AND ${afterSql('rm', '$3', '$4', '$6')}
           ORDER BY rm.version_xid, rm.version LIMIT $5
         ) rm ON true
         ORDER BY rm.version_xid, rm.version`,
        [userId, companyId, since.xid, since.version, limit, since.floor],
      );
      return { rows: rows.filter((r) => r.id !== null).map(({ watermark: _w, ...m }) => m as Member), watermark: rows[0].watermark };
    },
  });
}

export type ChangeRepository = ReturnType<typeof changeRepository>;
