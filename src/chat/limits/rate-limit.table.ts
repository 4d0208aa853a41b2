import { col, table, type RecordOf } from '../../db/table';
import type { RateLimitedAction } from '../types';

/**
 * The seed's RateLimitLog, one row per (user, scope, action): the times of the
 * admitted actions still inside the window. One row per key lets a single
 * INSERT ... ON CONFLICT DO UPDATE count and admit under the row's lock.
 */
export const rateLimitsTable = table('rate_limits', {
  userId: col.uuid(),
  /** The room; the nil UUID for actions outside a room (creating rooms). */
  scopeId: col.uuid(),
  action: col.varchar(),
  admittedAt: col.array<string>('timestamptz'),
});

export type RateLimitRow = RecordOf<typeof rateLimitsTable> & { action: RateLimitedAction };
