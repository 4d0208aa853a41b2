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
  /** setTyping. */
  SetTyping = 'SET_TYPING',
  /** muteMember / unmuteMember of a MEMBER. */
  MuteMember = 'MUTE_MEMBER',
  /** muteMember / unmuteMember of an ADMIN. */
  MuteAdmin = 'MUTE_ADMIN',
  /** muteMember of the OWNER (nobody). */
  MuteOwner = 'MUTE_OWNER',
  /** banMember / unbanMember of a MEMBER. */
  BanMember = 'BAN_MEMBER',
  /** banMember / unbanMember of an ADMIN. */
  BanAdmin = 'BAN_ADMIN',
  /** banMember of the OWNER (nobody). */
  BanOwner = 'BAN_OWNER',
  /** setSlowMode. */
  SetSlowMode = 'SET_SLOW_MODE',
  /** Send without waiting for the room's slow mode. */
  SkipSlowMode = 'SKIP_SLOW_MODE',
}

const all = (...permissions: Permission[]): ReadonlySet<Permission> => new Set(permissions);

/** What every member may do in any room. */
const EVERYONE = [Permission.SendMessage, Permission.React, Permission.EditOwnMessage, Permission.DeleteOwnMessage, Permission.SetTyping];

/** What the room's moderators (GROUP: OWNER and ADMINs) may do to MEMBERs: mute, ban, slow the room down, and not be slowed. */
const MODERATING = [Permission.MuteMember, Permission.BanMember, Permission.SetSlowMode, Permission.SkipSlowMode];

/**
 * Who may do what: room type x role -> the permissions granted. The one place
 * a role is compared with anything; services ask `require`/`can` (access.ts).
 * BEHAVIOUR.md's rules, row by row (test/permissions.test.ts renders this
 * table and holds it to them):
 * - GROUP: the OWNER does everything but leave (ownership is handed over
 *   first) and be removed, muted or banned; an ADMIN adds, removes, mutes and
 *   bans MEMBERs, deletes others' messages, pins and sets slow mode; a MEMBER
 *   talks, reacts, edits and deletes their own, and leaves. OWNER and ADMINs
 *   are not slowed by slow mode.
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
      ...MODERATING,
      Permission.MuteAdmin,
      Permission.BanAdmin,
    ),
    [MemberRole.ADMIN]: all(
      ...EVERYONE,
      Permission.DeleteOthersMessage,
      Permission.PinMessage,
      Permission.AddMember,
      Permission.RemoveMember,
      Permission.Leave,
      ...MODERATING,
    ),
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

/**
 * What a mute takes away, whatever the role grants: everything that puts words
 * or attention in front of the room (muteMember). Reading, leaving, deleting
 * one's own messages and marking the room read stay.
 */
export const MUTE_REVOKES: ReadonlySet<Permission> = all(
  Permission.SendMessage,
  Permission.React,
  Permission.EditOwnMessage,
  Permission.PinMessage,
  Permission.SetTyping,
);

/** The end of a mute given without `until`: muted until unmuted (a DateTime a client can show). */
export const MUTED_FOREVER = '9999-12-31T23:59:59.999Z';

/** When a membership's mute ends, if it is muted at `now` (ms); null when it is not. */
export function mutedAt(member: { mutedUntil: string | null }, now: number = Date.now()): string | null {
  return member.mutedUntil !== null && Date.parse(member.mutedUntil) > now ? member.mutedUntil : null;
}

/** When the mute that takes `permission` away from `member` now ends; null when no mute does. */
export function mutedFor(member: { mutedUntil: string | null }, permission: Permission): string | null {
  return MUTE_REVOKES.has(permission) ? mutedAt(member) : null;
}

/**
 * SQL: the table as a condition, for statements that fold the check in (a
 * send): membership row `member` (an alias of room_members) of room row `room`
 * grants `permission` now (its role, in the room's type; and, for what a mute
 * takes away, not muted at the statement's time). Only the enums' own values
 * are written into the text.
 */
export function grantedSql(permission: Permission, room: string, member: string): string {
  const pairs: string[] = [];
  for (const type of Object.values(RoomType)) {
    const roles = Object.values(MemberRole).filter((role) => can(type, role, permission));
    if (roles.length > 0) pairs.push(`(${room}.type = '${type}' AND ${member}.role IN (${roles.map((r) => `'${r}'`).join(', ')}))`);
  }
  const granted = pairs.length === 0 ? 'false' : `(${pairs.join(' OR ')})`;
  return MUTE_REVOKES.has(permission) ? `(${granted} AND NOT ${mutedSql(member)})` : granted;
}

/** SQL: membership row `member` is muted at the statement's time. */
export function mutedSql(member: string): string {
  return `coalesce(${member}.muted_until > now(), false)`;
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
  [Permission.SetTyping]: 'set typing',
  [Permission.MuteMember]: 'mute or unmute members',
  [Permission.MuteAdmin]: 'mute or unmute an ADMIN',
  [Permission.MuteOwner]: 'mute the OWNER',
  [Permission.BanMember]: 'ban or unban members',
  [Permission.BanAdmin]: 'ban or unban an ADMIN',
  [Permission.BanOwner]: 'ban the OWNER',
  [Permission.SetSlowMode]: 'set slow mode',
  [Permission.SkipSlowMode]: 'skip slow mode',
};

/** Nobody may do these to anyone, in any room: a refusal is FORBIDDEN (the target's role protects them), not BAD_USER_INPUT. */
const AGAINST_THE_OWNER: ReadonlySet<Permission> = all(Permission.RemoveOwner, Permission.MuteOwner, Permission.BanOwner);

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
  if (!anyone && !AGAINST_THE_OWNER.has(permission)) return new BadInputError(`Nobody can ${SAYS[permission]} in a ${type} room`);
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

/** The permission muting (or unmuting) a member of `role` needs. */
export function muteOf(role: MemberRole): Permission {
  switch (role) {
    case MemberRole.MEMBER:
      return Permission.MuteMember;
    case MemberRole.ADMIN:
      return Permission.MuteAdmin;
    case MemberRole.OWNER:
      return Permission.MuteOwner;
  }
}

/** The permission banning (or unbanning) a member of `role` needs: the same roles as removal. */
export function banOf(role: MemberRole): Permission {
  switch (role) {
    case MemberRole.MEMBER:
      return Permission.BanMember;
    case MemberRole.ADMIN:
      return Permission.BanAdmin;
    case MemberRole.OWNER:
      return Permission.BanOwner;
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
