import type { Actor } from '../actor';

/**
 * Who may see a room: the one rule, in SQL for statements that fold the check
 * in and in TypeScript for rows already read. Everything else (reading its
 * members, messages, reactions, receiving its events, acting in it) follows
 * from seeing the room.
 *
 * An actor sees a room when they are an active member of it AND the room
 * belongs to the company their token names now (rooms without a company to
 * actors without one). A user whose company claim changes keeps their
 * memberships but, while their token names another company, the old
 * company's rooms answer NOT_FOUND, exactly as rooms that do not exist.
 */

/**
 * SQL condition: membership row `member` (an alias of room_members) of room
 * row `room` (an alias of rooms) lets the user whose company is the parameter
 * `companyParam` (e.g. `$3`) see the room. The membership's user is whoever the
 * statement joined on.
 */
export function visibleMembershipSql(member: string, room: string, companyParam: string): string {
  return `(${member}.is_active AND ${roomOfCompanySql(room, companyParam)})`;
}

/**
 * SQL condition: room row `room` belongs to the company `companyParam` (rooms
 * without a company to actors without one). Half of the rule above, for the one
 * read that also follows memberships that ended: the changes feed shows a room
 * left up to the moment of leaving, never a room of another company.
 */
export function roomOfCompanySql(room: string, companyParam: string): string {
  return `${room}.company_id IS NOT DISTINCT FROM ${companyParam}::uuid`;
}

/** Who may see a room's events: its active members, judged against the room's company. */
export interface Audience {
  companyId: string | null;
  /** Active members' user ids. */
  userIds: ReadonlySet<string>;
}

export function inAudience(actor: Actor, audience: Audience): boolean {
  return audience.userIds.has(actor.id) && audience.companyId === actor.companyId;
}

/**
 * Who may be brought into a room of company `roomCompanyId`: users seen with
 * that company, and users never seen with a token at all (named by someone
 * before they ever called the API; they are judged when they do).
 */
export function joinable(user: { seenAt: string | null; companyId: string | null }, roomCompanyId: string | null): boolean {
  return user.seenAt === null || user.companyId === roomCompanyId;
}
