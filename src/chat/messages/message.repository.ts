import type { DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { NEXT_VERSION, RESTAMP, STAMP, stampCtes } from '../changes/versions';
import { messageNotFound } from '../errors';
import { Member } from '../members/member.entity';
import type { RoomType } from '../types';
import { MessageEdit } from './edit.entity';
import { historyQueries, LEAN_MESSAGE_PROPERTIES } from './history.queries';
import { mentionQueries } from './mention.queries';
import { Message } from './message.entity';
import type { SendBatching } from './send-batcher';
import { sendQueries } from './send.queries';
import { threadQueries } from './thread.queries';

/** Earlier versions kept per message: an edit past this drops the oldest. */
export const MAX_EDITS_KEPT = 100;

/**
 * The messages table, one repository over TypeORM's, its statements grouped by
 * what they serve: the history page (history.queries.ts), a send
 * (send.queries.ts), threads and pins (thread.queries.ts), mentions
 * (mention.queries.ts), and here what the rest of a message's life needs
 * (look-ups, the visibility-checked look-up, edits, deletion).
 */
export function messageRepository(dataSource: DataSource, db: Database, sendBatching?: SendBatching) {
  const messageColumns = columnsOf<Message>(dataSource.getMetadata(Message));
  const MESSAGE = messageColumns.select('m');
  const members = columnsOf<Member>(dataSource.getMetadata(Member));
  const EDIT = columnsOf<MessageEdit>(dataSource.getMetadata(MessageEdit)).select('me');
  return dataSource.getRepository(Message).extend({
    ...historyQueries(db, MESSAGE, messageColumns.selectOnly('m', LEAN_MESSAGE_PROPERTIES)),
    ...sendQueries(db, MESSAGE, sendBatching),
    ...threadQueries(db, MESSAGE),
    ...mentionQueries(db, MESSAGE),

    async ensureExists(messageId: string): Promise<Message> {
      const message = await this.findById(messageId);
      if (!message) throw messageNotFound();
      return message;
    },

    async findById(messageId: string): Promise<Message | null> {
      const [message] = await this.findByIds([messageId]);
      return message ?? null;
    },

    async findByIds(ids: readonly string[]): Promise<Message[]> {
      return db.on(this.manager).query<Message>(`SELECT ${MESSAGE} FROM messages m WHERE m.id = ANY($1::uuid[])`, [ids]);
    },

    /**
     * The messages among `ids` that `userId` (company `companyId`) may see, each
     * with the membership that lets them, in one statement: a message that does
     * not exist and one in a room they may not see are both simply absent, so
     * the two take the same path.
     */
    async findVisible(ids: readonly string[], userId: string, companyId: string | null): Promise<{ message: Message; me: Member; roomType: RoomType }[]> {
      const rows = await db.on(this.manager).query<Message & Record<string, unknown>>(
        `SELECT ${MESSAGE}, ${members.selectPrefixed('rm', 'me')}, r.type AS "room.type"
         FROM messages m
         JOIN rooms r ON r.id = m.room_id
         JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = $2
         WHERE m.id = ANY($1::uuid[]) AND ${visibleMembershipSql('rm', 'r', '$3')}`,
        [ids, userId, companyId],
      );
      return rows.map((row) => ({ message: row, me: members.pick(row, 'me') as Member, roomType: row['room.type'] as RoomType }));
    },

    /**
     * Replaces the content of a live message in one statement: the replaced
     * content is kept as an earlier version (the newest MAX_EDITS_KEPT are kept,
     * the oldest go first), the message gets a new position, and
     * with `mentionIds` (not null) its mentions become those users. Null when it
     * is gone or deleted.
     */
    async editMessage(messageId: string, newContent: string, mentionIds: string[] | null = null): Promise<Message | null> {
      const [message] = await db.on(this.manager).query<Message>(
        `WITH ${stampCtes(`SELECT id FROM messages WHERE id = $1 AND NOT is_deleted`)},
           kept AS (INSERT INTO message_edits (message_id, content) SELECT m.id, m.content FROM messages m JOIN stamped s ON s.id = m.id),
           -- The statement's snapshot does not see the version just kept: the newest $4 - 1 earlier ones stay with it.
           pruned AS (
             DELETE FROM message_edits WHERE id IN (
               SELECT e.id FROM message_edits e JOIN stamped s ON s.id = e.message_id ORDER BY e.replaced_at DESC, e.id DESC OFFSET $4 - 1)
           ),
           edited AS (
             UPDATE messages m SET content = $2, edited_at = clock_timestamp(), ${STAMP}, revision = m.revision + 1
             FROM stamped WHERE m.id = stamped.id RETURNING m.*
           ),
           unmentioned AS (
             DELETE FROM message_mentions mm USING edited
             WHERE $3::uuid[] IS NOT NULL AND mm.message_id = edited.id AND mm.user_id <> ALL($3::uuid[])
           ),
           mentioned AS (
             INSERT INTO message_mentions (message_id, user_id, room_id, created_at, position)
             SELECT e.id, k.user_id, e.room_id, e.created_at, k.position FROM edited e, unnest($3::uuid[]) WITH ORDINALITY AS k(user_id, position)
             ON CONFLICT (message_id, user_id) DO UPDATE SET position = EXCLUDED.position
           )
         SELECT ${MESSAGE} FROM edited m`,
        [messageId, newContent, mentionIds, MAX_EDITS_KEPT],
      );
      return message ?? null;
    },

    /** Locks a message's row to the transaction's end: taken first by an edit, before the editor's membership. */
    async lockForEdit(messageId: string): Promise<void> {
      await db.on(this.manager).query(`SELECT 1 FROM messages WHERE id = $1 FOR UPDATE`, [messageId]);
    },

    /**
     * Locks a message's row and its thread root's (a reply before its root): run
     * first in the transaction that deletes, so the delete statement's snapshot,
     * taken after, sees every reply deleted before it (the root's last reply is
     * recounted from it).
     */
    async lockForDelete(messageId: string): Promise<void> {
      await db.on(this.manager).query(
        `WITH target AS (SELECT id, parent_id FROM messages WHERE id = $1 FOR UPDATE)
         SELECT 1 FROM messages p JOIN target t ON p.id = t.parent_id FOR UPDATE OF p`,
        [messageId],
      );
    },

    /**
     * Soft delete, with a new position: the row and its seq stay; its content,
     * metadata, mentions, earlier versions and pin go. A reply that is deleted
     * leaves its root's counters (the root gets a position too: `rootId`). Run
     * after lockForDelete in the same transaction. Deleting twice keeps the first deletedAt.
     */
    async deleteMessage(messageId: string): Promise<{ message: Message; rootId: string | null } | null> {
      const [row] = await db.on(this.manager).query<Message & { root_id: string | null }>(
        `WITH target AS (SELECT id, parent_id, is_deleted FROM messages WHERE id = $1 FOR UPDATE),
           root AS (SELECT p.id FROM messages p JOIN target t ON p.id = t.parent_id WHERE NOT t.is_deleted FOR UPDATE OF p),
           stamped AS (SELECT t.id, ${NEXT_VERSION} AS version FROM target t),
           deleted AS (
             UPDATE messages m SET is_deleted = true, deleted_at = coalesce(m.deleted_at, clock_timestamp()),
               content = NULL, metadata = NULL, pinned_at = NULL, pinned_by = NULL, ${STAMP}, revision = m.revision + 1
             FROM stamped WHERE m.id = stamped.id RETURNING m.*
           ),
           unmentioned AS (DELETE FROM message_mentions WHERE message_id IN (SELECT id FROM deleted)),
           forgotten AS (DELETE FROM message_edits WHERE message_id IN (SELECT id FROM deleted)),
           recounted AS (
             UPDATE messages p SET reply_count = p.reply_count - 1, ${RESTAMP}, revision = p.revision + 1,
               last_reply_at = (SELECT max(r.created_at) FROM messages r WHERE r.parent_id = p.id AND NOT r.is_deleted AND r.id <> $1)
             FROM root WHERE p.id = root.id RETURNING p.id
           )
         SELECT ${MESSAGE}, (SELECT id FROM recounted) AS root_id FROM deleted m`,
        [messageId],
      );
      if (!row) return null;
      const { root_id: rootId, ...message } = row;
      return { message: message as Message, rootId };
    },

    /** The most recent `limit` earlier versions of each message, oldest first; one statement, an index range scan per key that stops at the limit. */
    async editsOf(keys: readonly { messageId: string; limit: number }[]): Promise<MessageEdit[][]> {
      const rows = await db.on(this.manager).query<MessageEdit & { n: string }>(
        `SELECT k.n, ${EDIT}
         FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS k(message_id, lim, n)
         CROSS JOIN LATERAL (
           SELECT * FROM message_edits WHERE message_id = k.message_id ORDER BY replaced_at DESC, id DESC LIMIT k.lim
         ) me
         ORDER BY k.n, me.replaced_at, me.id`,
        [keys.map((k) => k.messageId), keys.map((k) => k.limit)],
      );
      const lists = keys.map(() => [] as MessageEdit[]);
      for (const { n, ...edit } of rows) lists[Number(n) - 1].push(edit);
      return lists;
    },
  });
}

export type MessageRepository = ReturnType<typeof messageRepository>;
