import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Threads, mentions, pins and edit history.
 * - A reply names its thread root (`parent_id`, a top-level message of the same
 *   room); the root keeps `reply_count` and `last_reply_at` of its replies that
 *   are not deleted, changed under the root's row lock with each reply.
 * - Mentions are rows, with the message's room and time copied in, so "the
 *   messages that mention me, newest first" and "unread mentions of a room" are
 *   index range scans whatever the depth.
 * - Pins are columns of the message; the room's pins are an index scan.
 * - An edit keeps the replaced content; deleting the message deletes them.
 */
export class Conversations1765100000000 implements MigrationInterface {
  name = 'Conversations1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages
      ADD COLUMN parent_id uuid REFERENCES messages(id),
      ADD COLUMN also_in_room boolean NOT NULL DEFAULT false,
      ADD COLUMN reply_count integer NOT NULL DEFAULT 0,
      ADD COLUMN last_reply_at timestamptz,
      ADD COLUMN pinned_at timestamptz,
      ADD COLUMN pinned_by uuid REFERENCES users(id),
      ADD CONSTRAINT messages_reply_count_not_negative CHECK (reply_count >= 0),
      ADD CONSTRAINT messages_pin_complete CHECK ((pinned_at IS NULL) = (pinned_by IS NULL))`);
    await q.query(`CREATE INDEX messages_thread_idx ON messages (parent_id, seq) WHERE parent_id IS NOT NULL`);
    await q.query(`CREATE INDEX messages_room_pins_idx ON messages (room_id, pinned_at DESC) WHERE pinned_at IS NOT NULL`);

    await q.query(`
      CREATE TABLE message_mentions (
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users(id),
        room_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        position integer NOT NULL,
        PRIMARY KEY (message_id, user_id)
      )`);
    await q.query(`CREATE INDEX message_mentions_user_idx ON message_mentions (user_id, created_at DESC, message_id DESC)`);
    await q.query(`CREATE INDEX message_mentions_user_room_idx ON message_mentions (user_id, room_id, created_at)`);

    await q.query(`
      CREATE TABLE message_edits (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        message_id uuid NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        content text NOT NULL,
        replaced_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX message_edits_message_idx ON message_edits (message_id, replaced_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE message_edits`);
    await q.query(`DROP TABLE message_mentions`);
    await q.query(`DROP INDEX messages_room_pins_idx`);
    await q.query(`DROP INDEX messages_thread_idx`);
    await q.query(`ALTER TABLE messages DROP CONSTRAINT messages_pin_complete, DROP CONSTRAINT messages_reply_count_not_negative,
      DROP COLUMN pinned_by, DROP COLUMN pinned_at, DROP COLUMN last_reply_at, DROP COLUMN reply_count, DROP COLUMN also_in_room, DROP COLUMN parent_id`);
  }
}
