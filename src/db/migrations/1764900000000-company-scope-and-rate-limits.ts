import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Company scope needs to know which users have been seen with a token (a user
 * only ever named by others has no company yet, and may be added anywhere).
 * The rate-limit log becomes one row per key holding the admitted times inside
 * the window, so one upsert counts and admits under the row's lock (no
 * separate advisory-lock statement, no log rows to sweep one by one).
 */
export class CompanyScopeAndRateLimits1764900000000 implements MigrationInterface {
  name = 'CompanyScopeAndRateLimits1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ADD COLUMN seen_at timestamptz`);
    await q.query(`UPDATE users SET seen_at = updated_at WHERE display_name IS NOT NULL OR company_id IS NOT NULL`);
    await q.query(`
      CREATE TABLE rate_limits (
        user_id uuid NOT NULL,
        scope_id uuid NOT NULL,
        action varchar(20) NOT NULL,
        admitted_at timestamptz[] NOT NULL,
        PRIMARY KEY (user_id, scope_id, action)
      )`);
    await q.query(`DROP TABLE rate_limit_log`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rate_limit_log (
        id bigserial PRIMARY KEY,
        user_id uuid NOT NULL,
        room_id uuid NOT NULL,
        event_type varchar(20) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(`CREATE INDEX rate_limit_log_window_idx ON rate_limit_log (user_id, room_id, event_type, created_at)`);
    await q.query(`DROP TABLE rate_limits`);
    await q.query(`ALTER TABLE users DROP COLUMN seen_at`);
  }
}
