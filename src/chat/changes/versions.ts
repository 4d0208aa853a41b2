/**
 * The version rule, in one place. Every change to a message or a membership
 * (send, edit, deletion, reaction, membership added, removed, role...) stamps
 * the changed rows, in the same statement or transaction, with the next number
 * of one service-wide sequence, taken under one advisory lock that is held
 * until commit. So versions commit in the order they are taken: once a client
 * has seen version V, no change can still commit with a smaller one (a feed
 * that pages by version never skips anything). Rolled-back numbers are gaps.
 *
 * The lock is the LAST lock a transaction takes: its rows are locked first
 * (`FOR UPDATE`, in id order), then the version lock, then the numbers. Nothing
 * holding the version lock ever waits for a row, so it cannot deadlock, and it
 * is held only for the stamp and the commit. The price: commits of changes are
 * serialised (see the README's capacity model).
 */

/** The advisory lock key of the version sequence (per database). */
export const VERSION_LOCK_KEY = 736_572_001;

/** SQL: takes the version lock (until commit). */
export const TAKE_VERSION_LOCK = `pg_advisory_xact_lock(${VERSION_LOCK_KEY})`;

/** SQL: the next version; only ever evaluated after TAKE_VERSION_LOCK in the same transaction. */
export const NEXT_VERSION = `nextval('change_version_seq')`;

/**
 * CTEs that lock every row `targetSql` selects (a `SELECT id FROM <table> WHERE ...`),
 * then take the version lock (`version_lock` reads all of `target` first, so no
 * row is still to be locked once it is held), then give each row its next
 * version: `target(id)`, `version_lock` and `stamped(id, version)`. The statement
 * goes on with an `UPDATE ... FROM stamped`.
 */
export function stampCtes(targetSql: string): string {
  return `target AS (${targetSql} ORDER BY id FOR UPDATE),
    ${stampAfter('target')}`;
}

/**
 * The version lock and numbers for the rows of an earlier CTE `source(id)`
 * whose rows this statement has already locked or written (a reaction's
 * message, locked first): `version_lock` (taken only if there is a row) and
 * `stamped(id, version)`.
 */
export function stampAfter(source: string): string {
  return `version_lock AS (SELECT ${TAKE_VERSION_LOCK} FROM (SELECT count(*) AS n FROM ${source}) AS all_locked WHERE all_locked.n > 0),
    stamped AS (SELECT s.id, ${NEXT_VERSION} AS version FROM ${source} s, version_lock)`;
}
