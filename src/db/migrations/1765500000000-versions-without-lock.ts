import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Versions without the service-wide lock (src/chat/changes/versions.ts): each
 * change records its transaction beside its number, and its floor, and readers of the feed
 * read below the watermark of their snapshot. Rows that exist were all
 * written by transactions long ended: transaction 1 places them before any
 * watermark, in the order of their numbers. The index a room's changes are
 * read by, and a user's memberships, follow the position.
 */
export class VersionsWithoutLock1765500000000 implements MigrationInterface {
  name = 'VersionsWithoutLock1765500000000';

  async up(q: QueryRunner): Promise<void> {
    // The writing transaction's id as a bigint (xid8 holds 64 bits; transaction ids never reach 2^63).
    await q.query(`
      CREATE FUNCTION chat_writing_xact() RETURNS bigint
      LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$ SELECT (pg_current_xact_id()::text)::bigint $$`);
    // The floor of a row being written: the statement's watermark, or its own transaction when that is lower (a snapshot leaves its own out).
    await q.query(`
      CREATE FUNCTION chat_version_floor() RETURNS bigint
      LANGUAGE sql VOLATILE PARALLEL UNSAFE AS $$ SELECT LEAST((pg_snapshot_xmin(pg_current_snapshot())::text)::bigint, chat_writing_xact()) $$`);
    await q.query(`ALTER TABLE messages ADD COLUMN version_xid bigint NOT NULL DEFAULT 1, ADD COLUMN version_floor bigint NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE messages ALTER COLUMN version_xid SET DEFAULT chat_writing_xact(), ALTER COLUMN version_floor SET DEFAULT chat_version_floor()`);
    await q.query(`ALTER TABLE room_members ADD COLUMN version_xid bigint NOT NULL DEFAULT 1, ADD COLUMN version_floor bigint NOT NULL DEFAULT 1, ADD COLUMN left_xid bigint`);
    await q.query(`ALTER TABLE room_members ALTER COLUMN version_xid SET DEFAULT chat_writing_xact(), ALTER COLUMN version_floor SET DEFAULT chat_version_floor()`);
    await q.query(`UPDATE room_members SET left_xid = 1 WHERE left_version IS NOT NULL`);
    await q.query(`CREATE INDEX messages_room_position_idx ON messages (room_id, version_xid, version)`);
    await q.query(`CREATE INDEX room_members_user_position_idx ON room_members (user_id, version_xid, version)`);
    await q.query(`DROP INDEX messages_room_version_idx`);
    await q.query(`DROP INDEX room_members_user_version_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX room_members_user_version_idx ON room_members (user_id, version)`);
    await q.query(`CREATE INDEX messages_room_version_idx ON messages (room_id, version)`);
    await q.query(`DROP INDEX room_members_user_position_idx`);
    await q.query(`DROP INDEX messages_room_position_idx`);
    await q.query(`ALTER TABLE room_members DROP COLUMN left_xid, DROP COLUMN version_floor, DROP COLUMN version_xid`);
    await q.query(`ALTER TABLE messages DROP COLUMN version_floor, DROP COLUMN version_xid`);
    await q.query(`DROP FUNCTION chat_version_floor()`);
    await q.query(`DROP FUNCTION chat_writing_xact()`);
  }
}
