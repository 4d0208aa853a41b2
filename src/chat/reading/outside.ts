import type { Room } from '../rooms/room.entity';

/**
 * Records a caller reads from outside their room: the messages of a room they
 * have left, as the changes feed and a `since` replay still show them (up to
 * the moment of leaving, as they were then), their own ended memberships, the
 * event of their own removal. Such a record is what it was; anything that
 * would read the room's state now (its members, counts, replies, reactions,
 * reads, edits, mentions...) answers as for a room that does not exist: null,
 * 0 or empty. The mark travels with the record, so every nested field asks it,
 * not the caller's rights at the moment (which no longer include the room).
 */
const OUTSIDE = Symbol('read from outside its room');

type Marked = { [OUTSIDE]?: true };

/** A copy of `record` marked as read from outside its room. */
export function fromOutside<T extends object>(record: T): T {
  return { ...record, [OUTSIDE]: true };
}

export function isOutside(record: object): boolean {
  return (record as Marked)[OUTSIDE] === true;
}

/**
 * A room as someone outside it may see it: what it always was (id, type, name,
 * company, creator, creation), nothing of its life since (no activity, no
 * update time beyond its creation), marked so its other fields answer empty.
 */
export function roomSeenFromOutside(room: Room): Room {
  return fromOutside({ ...room, updatedAt: room.createdAt, lastMessageAt: null, lastSeq: 0, slowModeSeconds: 0 });
}
