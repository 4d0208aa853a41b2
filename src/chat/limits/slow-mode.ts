/**
 * Slow mode (setSlowMode): in a room where it is on, a member without
 * SkipSlowMode (src/chat/access/permissions.ts) sends at most one message per
 * the room's `slowModeSeconds`. It is admitted like a rate limit, in the send's
 * own statement, under the row of (user, room, SLOW_MODE_ACTION) in
 * rate_limits with a window of the room's seconds and room for one.
 */

/** The seconds setSlowMode accepts; 0 turns it off. */
export const SLOW_MODE_SECONDS = { min: 0, max: 3600 };

/** The rate_limits action slow mode admits under (not a configured limit: its window is the room's). */
export const SLOW_MODE_ACTION = 'SLOW_MODE' as const;
