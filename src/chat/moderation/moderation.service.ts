import type { Access } from '../access/access';
import { banOf, MUTED_FOREVER, muteOf, Permission } from '../access/permissions';
import type { Actor } from '../actor';
import type { ChatRepositories, Repositories } from '../chat-repositories';
import { BadInputError, NotFoundError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import { SLOW_MODE_SECONDS } from '../limits/slow-mode';
import type { Member } from '../members/member.entity';
import { membershipEvent } from '../members/member.service';
import type { Room } from '../rooms/room.entity';
import { MemberRole, MembershipEventKind, RateLimitedAction } from '../types';
import { requireDateInRange, requireIntInRange, requireUuid } from '../validation';

/** Years a mute's `until` may name. */
export const MUTE_UNTIL_YEARS = { min: 1970, max: 9999 };

/** A moderated member, read under the room's lock. */
interface Target {
  room: Room;
  target: Member;
}

/**
 * Mute, ban and slow mode (GROUP rooms). Who may do it to whom is the
 * permission table's (src/chat/access/permissions.ts: muteOf, banOf,
 * SetSlowMode), judged on the target's role under the room's row lock, the
 * lock a role change takes too, so the role judged is the role the change
 * meets. Each change gives the membership a new position (the changes feed)
 * and is a membershipChanged event; each call, refused or not by the
 * target's state, counts against MODERATION_RATE_LIMIT once it is allowed.
 *
 * What the mute and the ban stop is enforced where it happens: the send's
 * statement locks the sender's membership (src/chat/messages/send.queries.ts),
 * so nothing is stored after a ban or mute commits; reactions, edits, pins and
 * typing ask Access.check, which a mute refuses (MutedError); a banned user is
 * not an active member, so every read and stream answers as for a room they
 * never saw, and no path makes them active again (a check on room_members).
 */
export class ModerationService {
  constructor(
    private readonly repos: ChatRepositories,
    private readonly access: Access,
    private readonly events: ChatEventPublisher,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * Mutes an active member until `until` (null: until unmuted, MUTED_FOREVER),
   * which must be in the future. Muting again moves the end. Returns the member.
   */
  async muteMember(actor: Actor, roomId: string, userId: string, until: Date | null): Promise<Member> {
    if (until !== null) {
      requireDateInRange('until', until, MUTE_UNTIL_YEARS.min, MUTE_UNTIL_YEARS.max);
      if (until.getTime() <= Date.now()) throw new BadInputError(`until must be in the future, got ${until.toISOString()}`);
    }
    return this.setMute(actor, roomId, userId, until === null ? MUTED_FOREVER : until.toISOString());
  }

  /** Lifts a mute; a member who is not muted is returned as they are (no event). */
  async unmuteMember(actor: Actor, roomId: string, userId: string): Promise<Member> {
    return this.setMute(actor, roomId, userId, null);
  }

  /**
   * Removes the user (a REMOVED event, when they were active) and bans them
   * (BANNED): no path adds them back until unbanMember. A former member may be
   * banned too (their last role is judged); a user who never was in the room
   * is NOT_FOUND. False when they were banned already.
   */
  async banMember(actor: Actor, roomId: string, userId: string): Promise<boolean> {
    const changes = await this.repos.transaction(async (tx) => {
      const { room, target } = await this.target(tx, actor, roomId, userId, banOf, { formerToo: true });
      if (target.bannedAt !== null) return [];
      const removed = target.isActive ? await tx.members.removeMember(room.id, target.userId) : null;
      const banned = await tx.members.setBanned(room.id, target.userId, true);
      if (!banned) throw new NotFoundError('Member not found');
      return [...(removed ? [{ kind: MembershipEventKind.REMOVED, member: removed }] : []), { kind: MembershipEventKind.BANNED, member: banned }];
    });
    for (const { kind, member } of changes) this.events.publish(membershipEvent(kind, member));
    return changes.length > 0;
  }

  /** Lifts a ban (UNBANNED): the user may be added again; they are not added. False when they were not banned. */
  async unbanMember(actor: Actor, roomId: string, userId: string): Promise<boolean> {
    const unbanned = await this.repos.transaction(async (tx) => {
      const { room, target } = await this.target(tx, actor, roomId, userId, banOf, { formerToo: true });
      if (target.bannedAt === null) return null;
      return tx.members.setBanned(room.id, target.userId, false);
    });
    if (unbanned) this.events.publish(membershipEvent(MembershipEventKind.UNBANNED, unbanned));
    return unbanned !== null;
  }

  /** Sets the room's slow mode, 0-3600 seconds (0: off); OWNER and ADMINs set it, and are not slowed by it. */
  async setSlowMode(actor: Actor, roomId: string, seconds: number): Promise<Room> {
    requireIntInRange('seconds', seconds, SLOW_MODE_SECONDS.min, SLOW_MODE_SECONDS.max);
    return this.repos.transaction(async (tx) => {
      const { room } = await this.access.require(actor, Permission.SetSlowMode, roomId, tx);
      // The room's row before the rate limit's, as every writer takes them (a mute holds the room's while it counts).
      await tx.rooms.lock(room.id);
      await this.limiter.admit(tx, actor, RateLimitedAction.MODERATION, room.id);
      return tx.rooms.setSlowMode(room.id, seconds);
    });
  }

  private async setMute(actor: Actor, roomId: string, userId: string, until: string | null): Promise<Member> {
    const change = await this.repos.transaction(async (tx) => {
      const { room, target } = await this.target(tx, actor, roomId, userId, muteOf, { formerToo: false });
      const changed = await tx.members.setMutedUntil(room.id, target.userId, until);
      return { member: changed ?? target, changed: changed !== null };
    });
    if (change.changed) this.events.publish(membershipEvent(until === null ? MembershipEventKind.UNMUTED : MembershipEventKind.MUTED, change.member));
    return change.member;
  }

  /**
   * The member `userId` of a room the actor sees, read under the room's row
   * lock (taken first: rooms before memberships, as every writer), once the
   * actor's role may `permissionOf(target's role)`; the call then counts
   * against MODERATION_RATE_LIMIT. Someone who is not a member (or, without
   * `formerToo`, not an active one): NOT_FOUND, to those who may moderate MEMBERs.
   */
  private async target(
    tx: Repositories,
    actor: Actor,
    roomId: string,
    userId: string,
    permissionOf: (role: MemberRole) => Permission,
    { formerToo }: { formerToo: boolean },
  ): Promise<Target> {
    const id = requireUuid('roomId', roomId);
    const targetId = requireUuid('userId', userId);
    await tx.rooms.lock(id);
    const { room, me } = await this.access.requireRoomAndMembership(actor, id, tx);
    const target = await tx.members.findByRoomAndUser(room.id, targetId);
    if (!target || !(formerToo || target.isActive)) {
      this.access.check(room.type, me, permissionOf(MemberRole.MEMBER));
      throw new NotFoundError('Member not found');
    }
    this.access.check(room.type, me, permissionOf(target.role));
    await this.limiter.admit(tx, actor, RateLimitedAction.MODERATION, room.id);
    return { room, target };
  }
}
