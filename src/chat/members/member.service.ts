import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, NotFoundError, roomNotFound } from '../errors';
import { additionOf, FORMER_OWNER_ROLE, holds, mutedAt, Permission, removalOf, roleChangeOf } from '../access/permissions';
import type { ChatEvent, ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import { MAX_USERS_PER_CALL } from '../rooms/room.service';
import { type MemberRole, MembershipEventKind, RateLimitedAction } from '../types';
import { positionOf, positionText } from '../changes/versions';
import { Coalescer } from '../limits/coalescer';
import { requireDateInRange, requireUuid, requireUuids } from '../validation';
import type { Member } from './member.entity';

/** Years a read position may name. */
export const READ_POSITION_YEARS = { min: 1970, max: 9999 };
/** At most one read receipt per member and room in this many ms. @default 1000 */
export const READ_RECEIPT_INTERVAL_MS = 1000;

export class MemberService {
  private readonly receipts: Coalescer<{ actor: Actor; roomId: string; lastReadAt: string }>;

  constructor(
    private readonly repos: ChatRepositories,
    private readonly access: Access,
    private readonly events: ChatEventPublisher,
    private readonly limiter: RateLimiter,
    receiptIntervalMs = READ_RECEIPT_INTERVAL_MS,
  ) {
    // A receipt held back to the end of its interval goes out only if its reader is still in the room.
    this.receipts = new Coalescer(receiptIntervalMs, ({ actor, roomId, lastReadAt }, held) => {
      (held ? this.access.requireRoom(actor, roomId) : Promise.resolve()).then(
        () => this.events.publish({ kind: 'readReceipt', roomId, userId: actor.id, lastReadAt }),
        () => {},
      );
    });
  }

  /**
   * Adds users with `role` (who may add whom: src/chat/access/permissions.ts;
   * OWNER is never granted here). Active members are skipped, removed ones
   * come back. Who may join is judged against the room's company; a refusal
   * stores nothing.
   */
  async addMembers(actor: Actor, roomId: string, userIds: string[], role: MemberRole): Promise<Member[]> {
    const ids = requireUuids('userIds', userIds, MAX_USERS_PER_CALL);
    const permission = additionOf(role);
    const id = requireUuid('roomId', roomId);
    const added = await this.repos.transaction(async (tx) => {
      // Under the room's lock, as a ban: one that commits first keeps its user out, one that comes after finds them in.
      await tx.rooms.lock(id);
      const { room } = await this.access.require(actor, permission, id, tx);
      await this.limiter.admit(tx, actor, RateLimitedAction.MEMBERSHIP, room.id);
      await tx.users.ensureKnown(ids);
      await this.access.requireJoinable(room.companyId, ids, tx);
      return tx.members.addMembers(room.id, ids, role);
    });
    for (const m of added) this.announce(MembershipEventKind.ADDED, m, m.roomSeq);
    return added;
  }

  /**
   * Removing yourself is leaving; removing another needs the permission their
   * role asks for (src/chat/access/permissions.ts). False when the user was not
   * an active member.
   */
  async removeMember(actor: Actor, roomId: string, userId: string): Promise<boolean> {
    const targetId = requireUuid('userId', userId);
    const { room, me } = await this.access.requireRoomAndMembership(actor, roomId);
    if (targetId === actor.id) {
      this.access.check(room.type, me, Permission.Leave);
    } else {
      const target = await this.repos.members.findByRoomAndUser(room.id, targetId);
      // Nobody to remove: false, to those who may remove anyone.
      if (!target?.isActive) {
        this.access.check(room.type, me, Permission.RemoveMember);
        return false;
      }
      this.access.check(room.type, me, removalOf(target.role));
    }
    const removed = await this.repos.members.removeMember(room.id, targetId);
    if (!removed) return false;
    this.announce(MembershipEventKind.REMOVED, removed);
    return true;
  }

  /**
   * Changes a role, or hands ownership over (the previous OWNER takes
   * FORMER_OWNER_ROLE). Everything is decided under the room's row lock, so
   * two hand-overs at once cannot both succeed (the caller's role is read
   * under the lock). Counts against ROLE_RATE_LIMIT.
   */
  async updateMemberRole(actor: Actor, roomId: string, userId: string, role: MemberRole): Promise<Member> {
    const targetId = requireUuid('userId', userId);
    const id = requireUuid('roomId', roomId);
    const permission = roleChangeOf(role);
    const change = await this.repos.transaction(async (tx) => {
      await tx.rooms.lock(id);
      const { room } = await this.access.require(actor, permission, id, tx);
      if (targetId === actor.id && permission !== Permission.TransferOwnership) {
        throw new BadInputError('The OWNER cannot step down; give OWNER to another member instead');
      }
      await this.limiter.admit(tx, actor, RateLimitedAction.ROLE, room.id);
      const target = await tx.members.findByRoomAndUser(room.id, targetId);
      if (!target?.isActive) throw new NotFoundError('Member not found');
      if (holds(target, role)) return { member: target, previousOwner: null, changed: false };
      // Nobody may mute or unmute the OWNER: ownership handed to a muted member would be a mute no one can lift.
      if (permission === Permission.TransferOwnership && mutedAt(target) !== null) {
        throw new BadInputError('A muted member cannot be made the OWNER: unmute them first');
      }
      const updated = await tx.members.updateRole(room.id, targetId, role, permission === Permission.TransferOwnership ? FORMER_OWNER_ROLE : null);
      // Throwing rolls a demotion back too.
      if (!updated) throw new NotFoundError('Member not found');
      return { ...updated, changed: true };
    });
    if (change.changed) {
      this.announce(MembershipEventKind.ROLE_CHANGED, change.member);
      if (change.previousOwner) this.announce(MembershipEventKind.ROLE_CHANGED, change.previousOwner);
    }
    return change.member;
  }

  /**
   * Moves the actor's lastReadAt forward (never back, never past now; not
   * before the room was created, nor outside years 1970-9999). Never refused
   * for rate (clients call it as they scroll); when it moves, the room's members
   * hear of it, at most once a second per member and room, with the latest
   * position (src/chat/limits/coalescer.ts). A refusal or a call that changes
   * nothing is no news.
   */
  async markRoomRead(actor: Actor, roomId: string, at: Date | null): Promise<Member> {
    if (at !== null) requireDateInRange('at', at, READ_POSITION_YEARS.min, READ_POSITION_YEARS.max);
    const { room } = await this.access.requireRoomAndMembership(actor, roomId);
    if (at !== null && at.getTime() < Date.parse(room.createdAt)) {
      throw new BadInputError(`at must not be before the room was created (${room.createdAt}), got ${at.toISOString()}`);
    }
    const read = await this.repos.members.updateLastRead(room.id, actor.id, at);
    if (!read) throw roomNotFound();
    if (read.moved && read.member.lastReadAt !== null) {
      this.receipts.offer(`${actor.id}:${room.id}`, { actor, roomId: room.id, lastReadAt: read.member.lastReadAt });
    }
    return read.member;
  }

  /** Forgets read receipts not sent yet (shutdown). */
  close(): void {
    this.receipts.close();
  }

  private announce(change: MembershipEventKind, m: Member, seq?: number): void {
    this.events.publish(membershipEvent(change, m, seq));
  }
}

/** The event of a change to membership `m` (after it committed), at the membership's position. */
export function membershipEvent(change: MembershipEventKind, m: Member, seq?: number): ChatEvent {
  return { kind: 'membershipChanged', change, roomId: m.roomId, memberId: m.id, userId: m.userId, position: positionText(positionOf(m)), seq };
}
