import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, ForbiddenError, NotFoundError, roomNotFound, UnreachableCaseError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import { MAX_USERS_PER_CALL } from '../rooms/room.service';
import { MemberRole, MembershipEventKind, RateLimitedAction, RoomType } from '../types';
import { Coalescer } from '../limits/coalescer';
import { requireDateInRange, requireUuid, requireUuids } from '../validation';
import type { Member } from './member.entity';

/** May a member with role `actor` remove a member with role `target`? (Removing oneself is leaving, handled apart.) */
function mayRemove(actor: MemberRole, target: MemberRole): boolean {
  switch (actor) {
    case MemberRole.OWNER:
      return true;
    case MemberRole.ADMIN:
      return target === MemberRole.MEMBER;
    case MemberRole.MEMBER:
      return false;
    default:
      throw new UnreachableCaseError(actor);
  }
}

/** Years a read position may name. */
export const READ_POSITION_YEARS = { min: 1970, max: 9999 };
/** At most one read receipt per member and room in this many ms. @default 1000 */
export const READ_RECEIPT_INTERVAL_MS = 1000;

export class MemberService {
  private readonly receipts: Coalescer<{ roomId: string; userId: string; lastReadAt: string }>;

  constructor(
    private readonly repos: ChatRepositories,
    private readonly access: Access,
    private readonly events: ChatEventPublisher,
    private readonly limiter: RateLimiter,
    receiptIntervalMs = READ_RECEIPT_INTERVAL_MS,
  ) {
    this.receipts = new Coalescer(receiptIntervalMs, (receipt) => this.events.publish({ kind: 'readReceipt', ...receipt }));
  }

  /**
   * OWNER and ADMIN add MEMBERs; only the OWNER adds ADMINs; OWNER is never
   * granted here. Active members are skipped, removed ones come back. Who may
   * join is judged against the room's company; a refusal stores nothing.
   */
  async addMembers(actor: Actor, roomId: string, userIds: string[], role: MemberRole): Promise<Member[]> {
    const ids = requireUuids('userIds', userIds, MAX_USERS_PER_CALL);
    const added = await this.repos.transaction(async (tx) => {
      const { room, me } = await this.access.requireRoomAndMembership(actor, roomId, tx);
      if (room.type !== RoomType.GROUP) throw new BadInputError('Members can only be added to GROUP rooms');
      if (role === MemberRole.OWNER) {
        throw new BadInputError('Role OWNER cannot be granted by addMembers; use updateMemberRole to hand ownership over');
      }
      if (me.role === MemberRole.MEMBER) throw new ForbiddenError('Only the OWNER or an ADMIN can add members');
      if (role === MemberRole.ADMIN && me.role !== MemberRole.OWNER) {
        throw new ForbiddenError('Only the OWNER can add members as ADMIN');
      }
      await this.limiter.admit(tx, actor, RateLimitedAction.MEMBERSHIP, room.id);
      await tx.users.ensureKnown(ids);
      await this.access.requireJoinable(room.companyId, ids, tx);
      return tx.members.addMembers(room.id, ids, role);
    });
    for (const m of added) this.announce(MembershipEventKind.ADDED, m, m.roomSeq);
    return added;
  }

  /**
   * Removing yourself is leaving (the OWNER hands over first). The OWNER removes
   * anyone, an ADMIN removes MEMBERs, a MEMBER nobody else. False when the user
   * was not an active member.
   */
  async removeMember(actor: Actor, roomId: string, userId: string): Promise<boolean> {
    const targetId = requireUuid('userId', userId);
    const { room, me } = await this.access.requireRoomAndMembership(actor, roomId);
    if (room.type !== RoomType.GROUP) throw new BadInputError('DIRECT rooms have no removal');
    if (targetId === actor.id) {
      if (me.role === MemberRole.OWNER) {
        throw new BadInputError('The OWNER cannot leave; hand ownership over with updateMemberRole first');
      }
    } else {
      const target = await this.repos.members.findByRoomAndUser(room.id, targetId);
      if (!target?.isActive) {
        if (me.role === MemberRole.MEMBER) throw new ForbiddenError('Members cannot remove other members');
        return false;
      }
      if (!mayRemove(me.role, target.role)) {
        throw new ForbiddenError(`An ${me.role} cannot remove an ${target.role}`);
      }
    }
    const removed = await this.repos.members.removeMember(room.id, targetId);
    if (!removed) return false;
    this.announce(MembershipEventKind.REMOVED, removed);
    return true;
  }

  /**
   * OWNER only. Giving OWNER hands ownership over; the previous owner becomes
   * ADMIN. Everything is decided under the room's row lock, so two hand-overs
   * at once cannot both succeed (the caller's role is read under the lock).
   * Counts against ROLE_RATE_LIMIT.
   */
  async updateMemberRole(actor: Actor, roomId: string, userId: string, role: MemberRole): Promise<Member> {
    const targetId = requireUuid('userId', userId);
    const id = requireUuid('roomId', roomId);
    const change = await this.repos.transaction(async (tx) => {
      await tx.rooms.lock(id);
      const { room, me } = await this.access.requireRoomAndMembership(actor, id, tx);
      if (room.type !== RoomType.GROUP) throw new BadInputError('DIRECT rooms have no roles to change');
      if (me.role !== MemberRole.OWNER) throw new ForbiddenError('Only the OWNER can change roles');
      if (targetId === actor.id && role !== MemberRole.OWNER) {
        throw new BadInputError('The OWNER cannot step down; give OWNER to another member instead');
      }
      await this.limiter.admit(tx, actor, RateLimitedAction.ROLE, room.id);
      const target = await tx.members.findByRoomAndUser(room.id, targetId);
      if (!target?.isActive) throw new NotFoundError('Member not found');
      if (target.role === role) return { member: target, previousOwner: null, changed: false };
      const updated = await tx.members.updateRole(room.id, targetId, role);
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
      this.receipts.offer(`${actor.id}:${room.id}`, { roomId: room.id, userId: actor.id, lastReadAt: read.member.lastReadAt });
    }
    return read.member;
  }

  /** Forgets read receipts not sent yet (shutdown). */
  close(): void {
    this.receipts.close();
  }

  private announce(change: MembershipEventKind, m: Member, seq?: number): void {
    this.events.publish({ kind: 'membershipChanged', change, roomId: m.roomId, memberId: m.id, userId: m.userId, version: m.version, seq });
  }
}
