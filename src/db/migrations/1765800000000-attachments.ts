import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attachments (src/chat/attachments/attachment.entity.ts): a row per upload,
 * reserved by createUpload, placed in a message by the send statement (once),
 * marked discarded in the transaction that deletes its message. The bytes are
 * in the attachment store, keyed by the row's id alone.
 */
export class Attachments1765800000000 implements MigrationInterface {
  name = 'Attachments1765800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE attachments (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        room_id uuid NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
        uploader_id uuid NOT NULL REFERENCES users(id),
        message_id uuid REFERENCES messages(id) ON DELETE CASCADE,
        position smallint,
        filename character varying(255) NOT NULL,
        content_type character varying(255) NOT NULL,
        size integer NOT NULL,
        width integer,
        height integer,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        upload_expires_at timestamptz NOT NULL,
        discarded_at timestamptz,
        CONSTRAINT attachments_size_positive CHECK (size > 0),
        CONSTRAINT attachments_placed CHECK ((message_id IS NULL) = (position IS NULL))
      )`);
    await q.query(`CREATE INDEX attachments_message_idx ON attachments (message_id, position) WHERE message_id IS NOT NULL`);
    await q.query(`CREATE INDEX attachments_unsent_idx ON attachments (created_at) WHERE message_id IS NULL`);
    await q.query(`CREATE INDEX attachments_discarded_idx ON attachments (discarded_at) WHERE discarded_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE attachments`);
  }
}
