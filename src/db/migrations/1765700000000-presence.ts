import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Presence: when each user's last socket closed (`User.lastSeenAt`). Who is
 * online now is not stored here (sockets live in the servers, and across
 * servers in Redis: src/realtime/presence-directory.ts); only the moment a
 * user went offline, so it outlives restarts and needs no Redis.
 */
export class Presence1765700000000 implements MigrationInterface {
  name = 'Presence1765700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN last_seen_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN last_seen_at`);
  }
}
