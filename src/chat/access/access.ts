import type { Actor } from '../actor';
import type { Repositories } from '../chat-repositories';
import { ForbiddenError, messageNotFound, MutedError, roomNotFound } from '../errors';
import type { Member } from '../members/member.entity';
import type { Message } from '../messages/message.entity';
import type { Room } from '../rooms/room.entity';
import type { RoomType } from '../types';
import { requireUuid } from '../validation';
import { can, mutedFor, type Permission, refusal } from './permissions';
import { joinable } from './visibility';

/** A room the actor may see, with their membership. */
export interface Seen {
  room: Room;
  me: Member;
}

/**
 * "May this actor see this room, and do this in it?", for the services: one
 * statement per question, on the pool or inside the caller's transaction (pass
 * its repositories). Who sees a room: src/chat/access/visibility.ts; who may
 * do what once they do: the table in src/chat/access/permissions.ts. A room
 * the actor may not see answers NOT_FOUND (the same as a room that does not
 * exist); a permission their role lacks, FORBIDDEN (or BAD_USER_INPUT when it
 * does not apply to the room at all). Reads go through the same visibility
 * rule, batched per request, in src/chat/reading/viewer-reader.ts.
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
  async requireRoomAndMembership(actor: Actor, roomId: string, repos: Repositories = this.repos): Promise<Seen> {
    const id = requireUuid('roomId', roomId);
    const [found] = await repos.members.findVisibleWithRooms(actor.id, actor.companyId, [id]);
    if (!found) throw roomNotFound();
    return found;
  }

  /** A room the actor may see and do `permission` in: NOT_FOUND, or the permission's refusal. */
  async require(actor: Actor, permission: Permission, roomId: string, repos: Repositories = this.repos): Promise<Seen> {
    const seen = await this.requireRoomAndMembership(actor, roomId, repos);
    this.check(seen.room.type, seen.me, permission);
    return seen;
  }

  /**
   * Inside a transaction that writes on the actor's behalf: the room and
   * their membership again, the membership locked FOR SHARE to the commit, and
   * `permission` checked on it. A ban or mute that committed since an earlier
   * check refuses now (NOT_FOUND, or MutedError); one that comes later waits
   * for this commit. What makes a mute stop the very next reaction, edit or pin
   * as it stops the next send (whose statement folds the same lock in).
   */
  async hold(actor: Actor, permission: Permission, roomId: string, tx: Repositories): Promise<Seen> {
    const [seen] = await tx.members.findVisibleWithRooms(actor.id, actor.companyId, [roomId], true);
    if (!seen) throw roomNotFound();
    this.check(seen.room.type, seen.me, permission);
    return seen;
  }

  /**
   * Throws the refusal unless the membership `me` of a room of `type` grants
   * `permission` now: its role's refusal, or, when a mute takes it away,
   * FORBIDDEN with until when (MutedError).
   */
  check(type: RoomType, me: Member, permission: Permission): void {
    if (!can(type, me.role, permission)) throw refusal(type, me.role, permission);
    const mutedUntil = mutedFor(me, permission);
    if (mutedUntil !== null) throw new MutedError(mutedUntil);
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
