import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every list is read at its bound:
 * - a room's members page by (room_id, joined_at, id), stopping at `limit`;
 * - read receipts and a message's first readers are index range scans on the
 *   active members' read positions, whatever the size of the room.
 * And versions are opaque to clients: each message counts its own changes
 * (`revision`), so the versions of one message still compare in order while
 * the service-wide position they carry is encrypted (src/chat/changes/cursor.ts).
 */
export class BoundedReads1765300000000 implements MigrationInterface {
  name = 'BoundedReads1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX room_members_room_joined_idx ON room_members (room_id, joined_at, id)`);
    await q.query(`CREATE INDEX room_members_room_read_idx ON room_members (room_id, last_read_at, id) WHERE is_active AND last_read_at IS NOT NULL`);
    await q.query(`ALTER TABLE messages ADD COLUMN revision integer NOT NULL DEFAULT 1`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages DROP COLUMN revision`);
    await q.query(`DROP INDEX room_members_room_read_idx`);
    await q.query(`DROP INDEX room_members_room_joined_idx`);
  }
}
