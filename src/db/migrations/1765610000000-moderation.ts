import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Moderation: a membership's mute (until when) and ban (since when; a banned
 * user is never active again until unbanned, held by a check), and a room's
 * slow mode (seconds between a MEMBER's messages, 0 when off).
 */
export class Moderation1765610000000 implements MigrationInterface {
  name = 'Moderation1765610000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE room_members ADD COLUMN muted_until timestamptz, ADD COLUMN banned_at timestamptz`);
    await q.query(`ALTER TABLE room_members ADD CONSTRAINT room_members_banned_inactive CHECK (NOT (is_active AND banned_at IS NOT NULL))`);
    await q.query(`ALTER TABLE rooms ADD COLUMN slow_mode_seconds integer NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE rooms ADD CONSTRAINT rooms_slow_mode_range CHECK (slow_mode_seconds BETWEEN 0 AND 3600)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rooms DROP CONSTRAINT rooms_slow_mode_range`);
    await q.query(`ALTER TABLE rooms DROP COLUMN slow_mode_seconds`);
    await q.query(`ALTER TABLE room_members DROP CONSTRAINT room_members_banned_inactive`);
    await q.query(`ALTER TABLE room_members DROP COLUMN banned_at, DROP COLUMN muted_until`);
  }
}
