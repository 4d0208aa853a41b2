/**
 * The version rule, in one place. Every change to a message or a membership
 * (send, edit, deletion, reaction, membership added, removed, role...) stamps
 * the changed rows, in the same statement, with a *position*: the writing
 * transaction's id (`pg_current_xact_id()`, never reused, 64 bits) and the
 * next number of one service-wide sequence, taken freely (no lock: writers do
 * not wait for each other). Positions order changes by (transaction, number).
 *
 * A transaction may commit after one with a larger position. So a reader that
 * pages by position (the changes feed) reads only below the watermark: the
 * oldest transaction id its snapshot still sees running
 * (`pg_snapshot_xmin(pg_current_snapshot())`). Every transaction below it has
 * ended, so the rows it wrote are final (committed, or never), and no row can
 * ever appear below the watermark again: a page up to it misses nothing and a
 * change that commits late is read once the watermark passes it. A reader is
 * held back at most as long as the longest transaction that writes.
 *
 * Rows keep the position of their latest change; a change moves a row to a
 * later position (its earlier state is gone: the feed delivers a row at its
 * latest state, once per change that reached a reader).
 *
 * A row's position is not a safe place to resume from by itself: a reader who
 * saw the row may not have seen a change of an older transaction that
 * committed after it. So each row also keeps its *floor*: the watermark of the
 * statement that wrote it (or its own transaction, when lower). Every
 * transaction below the floor had ended before the row was written, so it
 * committed before the row did and anyone who saw the row saw it too. "After"
 * a position therefore means: a later position, or any change of a
 * transaction between the floor and the position's own. A Message.version
 * (the row's position with its floor) is stable, the same however often the
 * message is read, and resumes the feed without a gap; what it repeats is at
 * most the few changes that were in flight while the message was written.
 */

/** A position in the order of changes: the writing transaction and the sequence's number, and the floor of what comes after it. */
export interface Position {
  /** The writing transaction (xid8, as a decimal string). */
  xid: string;
  /** The number from change_version_seq (bigint, as a decimal string). */
  version: string;
  /** Every change of a transaction from here up to `xid` counts as after the position too (decimal string, at most `xid`). */
  floor: string;
}

/** SQL: the next number of the sequence (no lock: the watermark, not the order of numbers, makes reads safe). */
export const NEXT_VERSION = `nextval('change_version_seq')`;

/** SQL: the writing transaction's id, as the bigint the position columns hold (also their default). */
export const WRITING_XACT = `chat_writing_xact()`;

/** SQL: the watermark of the statement's snapshot (every transaction below it has ended). */
export const WATERMARK = `(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint`;

/** SQL: the floor of a row this statement writes (every transaction below it has ended); also the column's default. */
export const WRITING_FLOOR = `chat_version_floor()`;

/** SQL: `SET` items that give a row the position `stamped.version` of this transaction. */
export const STAMP = `version = stamped.version, version_xid = ${WRITING_XACT}, version_floor = ${WRITING_FLOOR}`;

/** SQL: `SET` items that give a row a new position of this transaction, with a number of its own. */
export const RESTAMP = `version = ${NEXT_VERSION}, version_xid = ${WRITING_XACT}, version_floor = ${WRITING_FLOOR}`;

/** SQL: the rows of table alias `t` after the position in parameters `$xid, $version, $floor` (see Position). */
export function afterSql(t: string, xid: string, version: string, floor: string): string {
  return `${t}.version_xid >= ${floor}::bigint AND NOT (${t}.version_xid = ${xid}::bigint AND ${t}.version <= ${version}::bigint)`;
}

/**
 * CTEs that lock every row `targetSql` selects (a `SELECT id FROM <table> WHERE
 * ...`, in id order: the order every writer locks rows in), then give each its
 * next number: `target(id)` and `stamped(id, version)`. The statement goes on
 * with an `UPDATE ... SET ${STAMP} FROM stamped`.
 */
export function stampCtes(targetSql: string): string {
  return `target AS (${targetSql} ORDER BY id FOR UPDATE),
    ${stampAfter('target')}`;
}

/** The numbers for the rows of an earlier CTE `source(id)` this statement has locked or written: `stamped(id, version)`. */
export function stampAfter(source: string): string {
  return `stamped AS (SELECT s.id, ${NEXT_VERSION} AS version FROM ${source} s)`;
}

/** A row's position, with its floor. */
export function positionOf(row: { versionXid: string; version: string; versionFloor: string }): Position {
  return { xid: String(row.versionXid), version: String(row.version), floor: String(row.versionFloor) };
}

/** The same place, as a page boundary: nothing between the floor and it counts as after it. */
export function exactly(p: Position): Position {
  return { ...p, floor: p.xid };
}

/** Negative, zero or positive as `a` is before, at or after `b` (the floors aside). */
export function comparePositions(a: Position, b: Position): number {
  const byXid = BigInt(a.xid) - BigInt(b.xid);
  if (byXid !== 0n) return byXid < 0n ? -1 : 1;
  const byVersion = BigInt(a.version) - BigInt(b.version);
  return byVersion === 0n ? 0 : byVersion < 0n ? -1 : 1;
}

/** The earlier of two positions (the floors aside). */
export function earlier(a: Position, b: Position): Position {
  return comparePositions(a, b) <= 0 ? a : b;
}

/** The position just below every change of transaction `xid` and later: where a reader that has read everything below the watermark `xid` stands. */
export function below(xid: string): Position {
  return { xid, version: '0', floor: xid };
}

/** A position as one string (events carry it), and back. */
export const positionText = (p: Position): string => `${p.xid}:${p.version}:${p.floor}`;
export function parsePosition(text: string): Position {
  const [xid, version, floor] = text.split(':');
  return { xid, version, floor };
}
