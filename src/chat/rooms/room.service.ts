import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, ForbiddenError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { Room } from './room.entity';
import { MembershipEventKind } from '../types';
import { requireIntInRange, requireLength, requireNoNul, requireUuid, requireUuids } from '../validation';

/** How many users one call may name (createGroupChat, addMembers). */
export const MAX_USERS_PER_CALL = 100;
export const PAGE_SIZE = { min: 1, max: 100 };
export const ROOM_NAME = { min: 1, max: 100 };

export class RoomService {
  constructor(
    private readonly repos: ChatRepositories,
    private readonly events: ChatEventPublisher,
  ) {}

  /** The DIRECT room of the actor and `userId`, created on first call; never two for one pair. */
  async createDirectChat(actor: Actor, userId: string): Promise<Room> {
    const otherId = otherUserOfDirect(actor, userId);
    await this.repos.users.ensureKnown([otherId]);
    await this.requireSameCompany(actor, [otherId]);
    const { room, members, created } = await this.repos.rooms.createDirectChat(actor.id, otherId, actor.companyId);
    if (created) this.announceAdded(room.id, members);
    return room;
  }

  async createGroupChat(actor: Actor, name: string, memberIds: string[]): Promise<Room> {
    const trimmed = requireNoNul('name', requireLength('name', name.trim(), ROOM_NAME.min, ROOM_NAME.max));
    const ids = requireUuids('memberIds', memberIds, MAX_USERS_PER_CALL);
    const others = [...new Set(ids)].filter((id) => id !== actor.id);
    await this.repos.users.ensureKnown(others);
    await this.requireSameCompany(actor, others);
    const { room, members } = await this.repos.rooms.createGroupChat(trimmed, actor.id, others, actor.companyId);
    this.announceAdded(room.id, members);
    return room;
  }

  /**
   * Rooms are scoped to a company: users known to belong to another company
   * cannot be brought in. Users never seen with a token have no company yet.
   */
  async requireSameCompany(actor: Actor, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const users = await this.repos.users.findByIds(userIds);
    const outsider = users.find((u) => u.companyId !== null && u.companyId !== actor.companyId);
    if (outsider) throw new ForbiddenError(`User ${outsider.id} belongs to another company`);
  }

  private announceAdded(roomId: string, members: { id: string; userId: string }[]): void {
    for (const m of members) {
      this.events.publish({
        kind: 'membershipChanged',
        change: MembershipEventKind.ADDED,
        roomId,
        memberId: m.id,
        userId: m.userId,
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
