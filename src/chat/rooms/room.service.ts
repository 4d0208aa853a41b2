import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import type { Member } from '../members/member.entity';
import { ROLES_AT_CREATION } from '../access/permissions';
import { positionOf, positionText } from '../changes/versions';
import { MembershipEventKind, RateLimitedAction } from '../types';
import { requireIntInRange, requireLength, requireNoNul, requireUuid, requireUuids } from '../validation';
import type { Room } from './room.entity';

/** How many users one call may name (createGroupChat, addMembers). */
export const MAX_USERS_PER_CALL = 100;
export const PAGE_SIZE = { min: 1, max: 100 };
export const ROOM_NAME = { min: 1, max: 100 };

export class RoomService {
  constructor(
    private readonly repos: ChatRepositories,
    private readonly access: Access,
    private readonly events: ChatEventPublisher,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * The DIRECT room of the actor and `userId`, created on first call; never two
   * for one pair. The other user must be joinable to the actor's company; a
   * refusal stores nothing (the user row it would name included). Only a call
   * that creates the room counts against ROOM_RATE_LIMIT: clients "open" a
   * direct chat this way again and again. An existing room is returned only if
   * the actor may see it (NOT_FOUND otherwise, as room(id) answers).
   */
  async createDirectChat(actor: Actor, userId: string): Promise<Room> {
    const otherId = otherUserOfDirect(actor, userId);
    const { room, members } = await this.repos.transaction(async (tx) => {
      await tx.users.ensureKnown([otherId]);
      await this.access.requireJoinable(actor.companyId, [otherId], tx);
      const inserted = await tx.rooms.insertDirectChat(actor.id, otherId, actor.companyId);
      if (!inserted) {
        const existing = (await tx.rooms.findDirectChat(actor.id, otherId)) as Room;
        // The pair's room of another company than the token names is not the caller's: as room(id) would say.
        await this.access.requireRoom(actor, existing.id, tx);
        return { room: existing, members: [] as Member[] };
      }
      await this.limiter.admit(tx, actor, RateLimitedAction.ROOM, null);
      const members = await tx.members.insertMembers(inserted.id, [
        { userId: actor.id, role: ROLES_AT_CREATION.direct },
        { userId: otherId, role: ROLES_AT_CREATION.direct },
      ]);
      return { room: inserted, members };
    });
    this.announceAdded(members);
    return room;
  }

  /** A GROUP room of the actor's company with the actor as OWNER; all or nothing. */
  async createGroupChat(actor: Actor, name: string, memberIds: string[]): Promise<Room> {
    const trimmed = requireNoNul('name', requireLength('name', name.trim(), ROOM_NAME.min, ROOM_NAME.max));
    const ids = requireUuids('memberIds', memberIds, MAX_USERS_PER_CALL);
    const others = [...new Set(ids)].filter((id) => id !== actor.id);
    const { room, members } = await this.repos.transaction(async (tx) => {
      await this.limiter.admit(tx, actor, RateLimitedAction.ROOM, null);
      await tx.users.ensureKnown(others);
      await this.access.requireJoinable(actor.companyId, others, tx);
      const room = await tx.rooms.insertGroupChat(trimmed, actor.id, actor.companyId);
      const members = await tx.members.insertMembers(room.id, [
        { userId: actor.id, role: ROLES_AT_CREATION.groupCreator },
        ...others.map((userId) => ({ userId, role: ROLES_AT_CREATION.groupInvitee })),
      ]);
      return { room, members };
    });
    this.announceAdded(members);
    return room;
  }

  /** The first members of a new room: nothing was said in it before them (seq 0). */
  private announceAdded(members: Member[]): void {
    for (const m of members) {
      this.events.publish({
        kind: 'membershipChanged',
        change: MembershipEventKind.ADDED,
        roomId: m.roomId,
        memberId: m.id,
        userId: m.userId,
        position: positionText(positionOf(m)),
        seq: 0,
      });
    }
  }
}

/** The other user of a DIRECT room; chatting with yourself is refused. */
export function otherUserOfDirect(actor: Actor, userId: string): string {
  const otherId = requireUuid('userId', userId);
  if (otherId === actor.id) throw new BadInputError('A direct chat needs another user: userId is your own id');
  return otherId;
}

export function checkPaging(page: number, pageSize: number): void {
  requireIntInRange('page', page, 1, 1_000_000);
  requireIntInRange('pageSize', pageSize, PAGE_SIZE.min, PAGE_SIZE.max);
}
