import type { DataSource } from 'typeorm';
import type { Database } from '../../db/database';
import type { RateLimitedAction } from '../types';
import { RateLimitLog } from './rate-limit.entity';
import type { SLOW_MODE_ACTION } from './slow-mode';

/** How many actions a window admits. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAfter: number };

/** Actions outside any room (creating rooms) are counted under this scope. */
export const NO_SCOPE = '00000000-0000-0000-0000-000000000000';

/**
 * The admitting upsert, for statements that fold the check in (a send): the
 * row of (user $u, scope $s, action $a) keeps the times admitted inside the
 * window ($w seconds); a new action is admitted (one row RETURNed) while fewer
 * than $m are. ON CONFLICT DO UPDATE locks the row and evaluates the count on
 * its latest version, so of many parallel callers exactly $m get through.
 * With `many`, the keys come from the rows of `many.from` (each key at most
 * once: ON CONFLICT updates a row once per statement) and the admitted keys are
 * RETURNed (user_id, scope_id); `window` may then read `rl.scope_id`.
 */
export function admitSql(p: { user: string; scope: string; action: string; window: string; max: string }, where = 'true', many?: { from: string }): string {
  const inWindow = `t > clock_timestamp() - make_interval(secs => ${p.window})`;
  return `INSERT INTO rate_limits AS rl (user_id, scope_id, action, admitted_at)
    SELECT ${p.user}, ${p.scope}, ${p.action}, ARRAY[clock_timestamp()] ${many ? `FROM ${many.from}` : ''} WHERE ${where}
    ON CONFLICT (user_id, scope_id, action) DO UPDATE
      SET admitted_at = ARRAY(SELECT t FROM unnest(rl.admitted_at) t WHERE ${inWindow}) || clock_timestamp()
      WHERE (SELECT count(*) FROM unnest(rl.admitted_at) t WHERE ${inWindow}) < ${p.max}
    RETURNING ${many ? 'rl.user_id, rl.scope_id' : '1'}`;
}

/** The seed's check_rate_limit and RateLimitLog: the statements; the limits are the caller's (src/chat/limits/rate-limiter.ts). */
export function rateLimitRepository(dataSource: DataSource, db: Database) {

  return dataSource.getRepository(RateLimitLog).extend({
    /** Admits one action of (user, scope) under `limit`, or says when the next one would be. */
    async checkRateLimit(userId: string, scopeId: string, action: RateLimitedAction, limit: RateLimit): Promise<Admission> {
      const admitted = await db.on(this.manager).query(
        admitSql({ user: '$1::uuid', scope: '$2::uuid', action: '$3', window: '$4', max: '$5' }),
        [userId, scopeId, action, limit.windowSeconds, limit.max],
      );
      if (admitted.length > 0) return { admitted: true };
      return { admitted: false, retryAfter: await this.retryAfter(userId, scopeId, action, limit) };
    },

    /** Whole seconds until the oldest admission inside the window leaves it (at least 1). */
    async retryAfter(userId: string, scopeId: string, action: RateLimitedAction | typeof SLOW_MODE_ACTION, limit: RateLimit): Promise<number> {
      const [row] = await db.on(this.manager).query<{ retry_after: number | null }>(
        `SELECT ceil(extract(epoch FROM (min(t) + make_interval(secs => $4) - clock_timestamp())))::int AS retry_after
         FROM rate_limits rl, unnest(rl.admitted_at) t
         WHERE rl.user_id = $1 AND rl.scope_id = $2 AND rl.action = $3 AND t > clock_timestamp() - make_interval(secs => $4)`,
        [userId, scopeId, action, limit.windowSeconds],
      );
      return Math.max(1, row?.retry_after ?? limit.windowSeconds);
    },

    /** Drops the keys whose newest admission is older than `windowSeconds` (nobody is inside a window there). */
    async sweepIdleKeys(windowSeconds: number): Promise<number> {
      const rows = await db.on(this.manager).query(
        `DELETE FROM rate_limits
         WHERE admitted_at[array_upper(admitted_at, 1)] <= clock_timestamp() - make_interval(secs => $1) RETURNING 1`,
        [windowSeconds],
      );
      return rows.length;
    },
  });
}

export type RateLimitRepository = ReturnType<typeof rateLimitRepository>;

