import type { DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import { Attachment } from './attachment.entity';

/** What createUpload reserves. */
export interface NewUpload {
  roomId: string;
  uploaderId: string;
  filename: string;
  contentType: string;
  size: number;
  uploadExpiresAt: string;
}

/** The attachments table: reservations, a message's list, the files to remove. Placing an upload in a message is the send statement's (send.queries.ts). */
export function attachmentRepository(dataSource: DataSource, db: Database) {
  const ATTACHMENT = columnsOf<Attachment>(dataSource.getMetadata(Attachment)).select('a');
  return dataSource.getRepository(Attachment).extend({
    async reserve(upload: NewUpload): Promise<Attachment> {
      const [row] = await db.on(this.manager).query<Attachment>(
        `INSERT INTO attachments AS a (room_id, uploader_id, filename, content_type, size, upload_expires_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${ATTACHMENT}`,
        [upload.roomId, upload.uploaderId, upload.filename, upload.contentType, upload.size, upload.uploadExpiresAt],
      );
      return row;
    },

    async findByIds(ids: readonly string[]): Promise<Attachment[]> {
      return db.on(this.manager).query<Attachment>(`SELECT ${ATTACHMENT} FROM attachments a WHERE a.id = ANY($1::uuid[])`, [ids]);
    },

    /** Pixels of an image, once its header was read. */
    async setDimensions(id: string, width: number, height: number): Promise<void> {
      await db.on(this.manager).query(`UPDATE attachments SET width = $2, height = $3 WHERE id = $1`, [id, width, height]);
    },

    /** The attachments of each message, in their order; none of a message once it was deleted. One statement for the batch. */
    async ofMessages(messageIds: readonly string[]): Promise<Map<string, Attachment[]>> {
      const rows = await db.on(this.manager).query<Attachment>(
        `SELECT ${ATTACHMENT} FROM attachments a WHERE a.message_id = ANY($1::uuid[]) AND a.discarded_at IS NULL ORDER BY a.message_id, a.position`,
        [messageIds],
      );
      const perMessage = new Map<string, Attachment[]>();
      for (const row of rows) {
        const list = perMessage.get(row.messageId as string) ?? [];
        list.push(row);
        perMessage.set(row.messageId as string, list);
      }
      return perMessage;
    },

    /** Run in the transaction that deletes the message: from its commit on, no URL is given or honoured for these files. */
    async discardOfMessage(messageId: string): Promise<string[]> {
      const rows = await db.on(this.manager).query<{ id: string }>(
        `UPDATE attachments SET discarded_at = clock_timestamp() WHERE message_id = $1 AND discarded_at IS NULL RETURNING id`,
        [messageId],
      );
      return rows.map((r) => r.id);
    },

    /** An attachment whose file may be served: sent in a message that is not deleted. */
    async findServable(id: string): Promise<Attachment | null> {
      const [row] = await db.on(this.manager).query<Attachment>(
        `SELECT ${ATTACHMENT} FROM attachments a JOIN messages m ON m.id = a.message_id
         WHERE a.id = $1 AND a.discarded_at IS NULL AND NOT m.is_deleted`,
        [id],
      );
      return row ?? null;
    },

    /** Whether an upload still waits for its bytes: reserved, not yet in a message (nor discarded with one). */
    async awaitingBytes(id: string): Promise<boolean> {
      const rows = await db.on(this.manager).query<{ id: string }>(
        `SELECT id FROM attachments WHERE id = $1 AND message_id IS NULL AND discarded_at IS NULL`,
        [id],
      );
      return rows.length > 0;
    },

    /** Up to `limit` discarded attachments (their message deleted, or never sent in time): their files are removed, then these rows. */
    async findDiscarded(limit: number): Promise<string[]> {
      const rows = await db.on(this.manager).query<{ id: string }>(
        `SELECT id FROM attachments WHERE discarded_at IS NOT NULL ORDER BY discarded_at LIMIT $1`,
        [limit],
      );
      return rows.map((r) => r.id);
    },

    async deleteByIds(ids: readonly string[]): Promise<void> {
      await db.on(this.manager).query(`DELETE FROM attachments WHERE id = ANY($1::uuid[])`, [ids]);
    },

    /**
     * Discards up to `limit` uploads never sent and reserved before `before`,
     * returning their ids: from then on no send claims them, and they go the
     * way of a deleted message's files (their files removed, then their rows),
     * so a store that fails leaves rows to try again, never bytes without a row.
     * A send claiming one at the same moment holds its row lock: this then sees
     * it sent and leaves it.
     */
    async discardUnsent(before: string, limit: number): Promise<string[]> {
      const rows = await db.on(this.manager).query<{ id: string }>(
        `UPDATE attachments SET discarded_at = clock_timestamp() WHERE id IN (
           SELECT id FROM attachments WHERE message_id IS NULL AND discarded_at IS NULL AND created_at < $1 ORDER BY created_at LIMIT $2
         ) AND message_id IS NULL AND discarded_at IS NULL RETURNING id`,
        [before, limit],
      );
      return rows.map((r) => r.id);
    },
  });
}

export type AttachmentRepository = ReturnType<typeof attachmentRepository>;
