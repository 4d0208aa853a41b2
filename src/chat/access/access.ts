import type { Actor } from '../actor';
import type { Repositories } from '../chat-repositories';
import { ForbiddenError, messageNotFound, roomNotFound } from '../errors';
import type { Member } from '../members/member.entity';
import type { Message } from '../messages/message.entity';
import type { Room } from '../rooms/room.entity';
import type { RoomType } from '../types';
import { requireUuid } from '../validation';
import { joinable } from './visibility';

/**
 * "Which rooms and messages may this actor see or act on", for the services:
 * one statement each, on the pool or inside the caller's transaction (pass its
 * repositories). Reads go through the same rule, batched per request, in
 * src/chat/reading/viewer-reader.ts; statements that fold the check in use
 * visibleMembershipSql. The rule itself: src/chat/access/visibility.ts.
 */
export class Access {
  constructor(private readonly repos: Repositories) {}

  /** The actor's membership of a room they may see; NOT_FOUND otherwise, the same as a room that does not exist. */
  async requireRoom(actor: Actor, roomId: string, repos: Repositories = this.repos): Promise<Member> {
    const id = requireUuid('roomId', roomId);
    const [me] = await repos.members.findVisible(actor.id, actor.companyId, [id]);
    if (!me) throw roomNotFound();
    return me;
  }

  /** The room (for rules that depend on its type or company) and the actor's membership, as requireRoom. */
  async requireRoomAndMembership(actor: Actor, roomId: string, repos: Repositories = this.repos): Promise<{ room: Room; me: Member }> {
    const id = requireUuid('roomId', roomId);
    const [found] = await repos.members.findVisibleWithRooms(actor.id, actor.companyId, [id]);
    if (!found) throw roomNotFound();
    return found;
  }

  /**
   * A message of a room the actor may see, with their membership; NOT_FOUND
   * otherwise. One statement whether the message exists or not, so the answer
   * takes the same path (and time) for both.
   */
  async requireMessage(actor: Actor, messageId: string, repos: Repositories = this.repos): Promise<{ message: Message; me: Member; roomType: RoomType }> {
    const id = requireUuid('id', messageId);
    const [found] = await repos.messages.findVisible([id], actor.id, actor.companyId);
    if (!found) throw messageNotFound();
    return found;
  }

  /**
   * Users may join a room of company `roomCompanyId` only if they were never
   * seen with a token or were seen with that company. Run inside the
   * transaction that adds them, after their rows exist: the rows stay locked,
   * so a token of another company seen meanwhile waits for the answer to land.
   */
  async requireJoinable(roomCompanyId: string | null, userIds: readonly string[], repos: Repositories = this.repos): Promise<void> {
    if (userIds.length === 0) return;
    const outsider = (await repos.users.findByIdsForShare(userIds)).find((u) => !joinable(u, roomCompanyId));
    if (outsider) throw new ForbiddenError(`User ${outsider.id} belongs to another company than the room`);
  }
}
