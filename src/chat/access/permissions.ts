import { BadInputError, ForbiddenError, type ChatError } from '../errors';
import { MemberRole, RoomType } from '../types';

/** Everything a member may be allowed to do in a room. */
export enum Permission {
  SendMessage = 'SEND_MESSAGE',
  React = 'REACT',
  EditOwnMessage = 'EDIT_OWN_MESSAGE',
  DeleteOwnMessage = 'DELETE_OWN_MESSAGE',
  DeleteOthersMessage = 'DELETE_OTHERS_MESSAGE',
  PinMessage = 'PIN_MESSAGE',
  /** addMembers with role MEMBER. */
  AddMember = 'ADD_MEMBER',
  /** addMembers with role ADMIN. */
  AddAdmin = 'ADD_ADMIN',
  /** Remove a MEMBER. */
  RemoveMember = 'REMOVE_MEMBER',
  /** Remove an ADMIN. */
  RemoveAdmin = 'REMOVE_ADMIN',
  /** Remove the OWNER (nobody: the OWNER hands ownership over, then leaves). */
  RemoveOwner = 'REMOVE_OWNER',
  /** updateMemberRole between MEMBER and ADMIN. */
  ChangeRole = 'CHANGE_ROLE',
  /** updateMemberRole to OWNER: the caller becomes ADMIN. */
  TransferOwnership = 'TRANSFER_OWNERSHIP',
  /** Remove oneself. */
  Leave = 'LEAVE',
}

const all = (...permissions: Permission[]): ReadonlySet<Permission> => new Set(permissions);

/** What every member may do in any room. */
const EVERYONE = [Permission.SendMessage, Permission.React, Permission.EditOwnMessage, Permission.DeleteOwnMessage];

/**
 * Who may do what: room type x role -> the permissions granted. The one place
 * a role is compared with anything; services ask `require`/`can` (access.ts).
 * BEHAVIOUR.md's rules, row by row (test/permissions.test.ts renders this
 * table and holds it to them):
 * - GROUP: the OWNER does everything but leave (ownership is handed over
 *   first) and be removed; an ADMIN adds and removes MEMBERs, deletes others'
 *   messages and pins; a MEMBER talks, reacts, edits and deletes their own,
 *   and leaves.
 * - DIRECT: both are MEMBERs, talk, and pin; nobody is added, removed, or
 *   changes role, and nobody leaves.
 */
export const PERMISSIONS: Readonly<Record<RoomType, Readonly<Record<MemberRole, ReadonlySet<Permission>>>>> = {
  [RoomType.GROUP]: {
    [MemberRole.OWNER]: all(
      ...EVERYONE,
      Permission.DeleteOthersMessage,
      Permission.PinMessage,
      Permission.AddMember,
      Permission.AddAdmin,
      Permission.RemoveMember,
      Permission.RemoveAdmin,
      Permission.ChangeRole,
      Permission.TransferOwnership,
    ),
    [MemberRole.ADMIN]: all(...EVERYONE, Permission.DeleteOthersMessage, Permission.PinMessage, Permission.AddMember, Permission.RemoveMember, Permission.Leave),
    [MemberRole.MEMBER]: all(...EVERYONE, Permission.Leave),
  },
  [RoomType.DIRECT]: {
    [MemberRole.OWNER]: all(),
    [MemberRole.ADMIN]: all(),
    [MemberRole.MEMBER]: all(...EVERYONE, Permission.PinMessage),
  },
};

/** Whether a member of `role` in a room of `type` may. */
export function can(type: RoomType, role: MemberRole, permission: Permission): boolean {
  return PERMISSIONS[type][role].has(permission);
}

/** What a refusal says, by permission: why the caller may not, in the words a client can act on. */
const SAYS: Record<Permission, string> = {
  [Permission.SendMessage]: 'send messages',
  [Permission.React]: 'react',
  [Permission.EditOwnMessage]: 'edit messages',
  [Permission.DeleteOwnMessage]: 'delete messages',
  [Permission.DeleteOthersMessage]: "delete others' messages",
  [Permission.PinMessage]: 'pin or unpin messages',
  [Permission.AddMember]: 'add members',
  [Permission.AddAdmin]: 'add members as ADMIN',
  [Permission.RemoveMember]: 'remove members',
  [Permission.RemoveAdmin]: 'remove an ADMIN',
  [Permission.RemoveOwner]: 'remove the OWNER',
  [Permission.ChangeRole]: 'change roles',
  [Permission.TransferOwnership]: 'hand ownership over',
  [Permission.Leave]: 'leave',
};

/**
 * The refusal of a permission not granted. An operation no role may do in
 * this kind of room (adding to a DIRECT room) is BAD_USER_INPUT: it does not
 * apply. One another role may do is FORBIDDEN: the caller's role is not
 * enough. The OWNER's leaving is BAD_USER_INPUT with what to do instead.
 */
export function refusal(type: RoomType, role: MemberRole, permission: Permission): ChatError {
  if (permission === Permission.Leave && can(type, MemberRole.MEMBER, Permission.Leave)) {
    return new BadInputError('The OWNER cannot leave; hand ownership over with updateMemberRole first');
  }
  const anyone = Object.values(MemberRole).some((r) => can(type, r, permission));
  if (!anyone && permission !== Permission.RemoveOwner) return new BadInputError(`Nobody can ${SAYS[permission]} in a ${type} room`);
  return new ForbiddenError(`An ${role} cannot ${SAYS[permission]} in this room`);
}

/** The permission adding a member with `role` needs; role OWNER is never granted by adding (BAD_USER_INPUT). */
export function additionOf(role: MemberRole): Permission {
  switch (role) {
    case MemberRole.MEMBER:
      return Permission.AddMember;
    case MemberRole.ADMIN:
      return Permission.AddAdmin;
    case MemberRole.OWNER:
      throw new BadInputError('Role OWNER cannot be granted by addMembers; use updateMemberRole to hand ownership over');
  }
}

/** The permission removing a member of `role` needs. */
export function removalOf(role: MemberRole): Permission {
  switch (role) {
    case MemberRole.MEMBER:
      return Permission.RemoveMember;
    case MemberRole.ADMIN:
      return Permission.RemoveAdmin;
    case MemberRole.OWNER:
      return Permission.RemoveOwner;
  }
}

/** The permission giving `role` needs: OWNER hands ownership over, the others change a role. */
export function roleChangeOf(role: MemberRole): Permission {
  return role === MemberRole.OWNER ? Permission.TransferOwnership : Permission.ChangeRole;
}

/** Whether the member has `role` already (a role change to it changes nothing). */
export function holds(member: { role: MemberRole }, role: MemberRole): boolean {
  return member.role === role;
}

/** The roles a new room's members get: its creator, and whoever the creator names (GROUP); both people of a DIRECT room. */
export const ROLES_AT_CREATION = {
  groupCreator: MemberRole.OWNER,
  groupInvitee: MemberRole.MEMBER,
  direct: MemberRole.MEMBER,
} as const;

/** The role a former OWNER takes when handing ownership over. */
export const FORMER_OWNER_ROLE = MemberRole.ADMIN;
