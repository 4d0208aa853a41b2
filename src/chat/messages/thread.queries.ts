import type { Repository } from 'typeorm';
import type { Database } from '../../db/database';
import { STAMP, stampAfter } from '../changes/versions';
import type { Message } from './message.entity';
import { SENDER, splitSenders, type MessagesWithSenders, type MessageWithSenderRow } from './message-rows';

/** What threads and pins serve: a thread's replies, its participants, pinning and a room's pins. */
export function threadQueries(db: Database, MESSAGE: string) {
  return {
    /** A thread's replies, newest first, keyset on seq (`beforeId` a reply of it, exclusive); null when `beforeId` is not one. */
    async getThread(this: Repository<Message>, parentId: string, limit: number, beforeId: string | null): Promise<MessagesWithSenders | null> {
      const rows = await db.on(this.manager).query<MessageWithSenderRow & { cursor_found: boolean }>(
        `WITH cursor AS (SELECT seq FROM messages WHERE id = $2 AND parent_id = $1)
         SELECT ${MESSAGE}, ${SENDER}, ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor)) AS cursor_found
         FROM (
           SELECT * FROM messages WHERE parent_id = $1 ${beforeId === null ? 'AND $2::uuid IS NULL' : 'AND seq < (SELECT seq FROM cursor)'}
           ORDER BY seq DESC LIMIT $3
         ) m LEFT JOIN users u ON u.id = m.sender_id
         RIGHT JOIN (SELECT 1) AS one ON true
         ORDER BY m.seq DESC`,
        [parentId, beforeId, limit],
      );
      if (!rows[0].cursor_found) return null;
      return splitSenders(rows[0].id === null ? [] : rows);
    },

    /** The distinct authors of each thread's live replies, in order of their first reply, at most `max` per thread; one statement. */
    async threadParticipants(this: Repository<Message>, parentIds: readonly string[], max: number): Promise<Map<string, string[]>> {
      const rows = await db.on(this.manager).query<{ parent_id: string; sender_id: string }>(
        `SELECT parent_id, sender_id FROM (
           SELECT parent_id, sender_id, row_number() OVER (PARTITION BY parent_id ORDER BY min(seq)) AS n, min(seq) AS first
           FROM messages WHERE parent_id = ANY($1::uuid[]) AND NOT is_deleted AND sender_id IS NOT NULL
           GROUP BY parent_id, sender_id
         ) authors WHERE n <= $2 ORDER BY parent_id, first`,
        [parentIds, max],
      );
      const perParent = new Map<string, string[]>();
      for (const row of rows) {
        let ids = perParent.get(row.parent_id);
        if (!ids) perParent.set(row.parent_id, (ids = []));
        ids.push(row.sender_id);
      }
      return perParent;
    },

    /**
     * Locks a message's row, then its room's (message rows before room rows, as
     * everywhere): run first in the transaction that pins, so the count of pins
     * the next statement reads is the count under the room's lock.
     */
    async lockForPin(this: Repository<Message>, messageId: string): Promise<void> {
      await db.on(this.manager).query(
        `WITH target AS (SELECT id, room_id FROM messages WHERE id = $1 FOR UPDATE)
         SELECT 1 FROM rooms r JOIN target t ON r.id = t.room_id FOR UPDATE OF r`,
        [messageId],
      );
    },

    /**
     * Pins (`by` a user) or unpins a message, with a new position, idempotently;
     * never past `maxPins` in its room (`full`). Run after lockForPin in the same
     * transaction. `changed` false when it already was so; null when the message is gone.
     */
    async setPinned(this: Repository<Message>, messageId: string, by: string | null, maxPins: number): Promise<{ message: Message; changed: boolean; full: boolean } | null> {
      const [row] = await db.on(this.manager).query<Message & { changed: boolean; full: boolean }>(
        `WITH target AS (SELECT id, room_id, pinned_at FROM messages WHERE id = $1),
           pins AS (SELECT count(*) AS n FROM messages WHERE room_id = (SELECT room_id FROM target) AND pinned_at IS NOT NULL),
           wanted AS (
             SELECT t.id FROM target t, pins
             WHERE ($2::uuid IS NULL) <> (t.pinned_at IS NULL) AND ($2::uuid IS NULL OR pins.n < $3)
           ),
           ${stampAfter('wanted')},
           changed AS (
             UPDATE messages m SET pinned_at = CASE WHEN $2::uuid IS NULL THEN NULL ELSE clock_timestamp() END, pinned_by = $2, ${STAMP}, revision = m.revision + 1
             FROM stamped WHERE m.id = stamped.id RETURNING m.*
           )
         SELECT ${MESSAGE}, true AS changed, false AS full FROM changed m
         UNION ALL
         SELECT ${MESSAGE}, false, $2::uuid IS NOT NULL AND m.pinned_at IS NULL AND (SELECT n FROM pins) >= $3 FROM messages m
         WHERE m.id = $1 AND NOT EXISTS (SELECT 1 FROM changed)`,
        [messageId, by, maxPins],
      );
      if (!row) return null;
      const { changed, full, ...message } = row;
      return { message: message as Message, changed, full };
    },

    /** The pinned messages of each room, most recently pinned first; one statement. */
    async pinnedIn(this: Repository<Message>, roomIds: readonly string[]): Promise<Message[]> {
      return db.on(this.manager).query<Message>(
        `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ANY($1::uuid[]) AND m.pinned_at IS NOT NULL ORDER BY m.room_id, m.pinned_at DESC, m.id`,
        [roomIds],
      );
    },

    /** How many pins a room has. */
    async countPinned(this: Repository<Message>, roomId: string): Promise<number> {
      const [row] = await db.on(this.manager).query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE room_id = $1 AND pinned_at IS NOT NULL`, [roomId]);
      return row.n;
    },
  };
}
