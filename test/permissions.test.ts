import { expect } from 'chai';
import { can, Permission, PERMISSIONS, refusal } from '../src/chat/access/permissions';
import { MemberRole, RoomType } from '../src/chat/types';

/**
 * The permission table (src/chat/access/permissions.ts), rendered, against
 * BEHAVIOUR.md's rules written out case by case: who may do what, in which
 * kind of room, and what a refusal says.
 */
const ROLES = [MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER];

function render(type: RoomType): string[] {
  return Object.values(Permission).map((p) => `${p.padEnd(22)} ${ROLES.map((r) => (PERMISSIONS[type][r].has(p) ? 'x' : '.')).join(' ')}`);
}

describe('the permission table', () => {
  it('GROUP rooms: as BEHAVIOUR.md says (OWNER ADMIN MEMBER)', () => {
    expect(render(RoomType.GROUP)).to.deep.equal([
      // "sendMessage: active members only"; reactions: active members; the sender edits and deletes their own.
      'SEND_MESSAGE           x x x',
      'REACT                  x x x',
      'EDIT_OWN_MESSAGE       x x x',
      'DELETE_OWN_MESSAGE     x x x',
      // "deleteMessage: the sender, or the room's OWNER/ADMIN."
      'DELETE_OTHERS_MESSAGE  x x .',
      // "pinMessage / unpinMessage: in a GROUP room the OWNER and ADMINs"
      'PIN_MESSAGE            x x .',
      // "OWNER and ADMIN may add MEMBERs; only the OWNER may add with role ADMIN"
      'ADD_MEMBER             x x .',
      'ADD_ADMIN              x . .',
      // "OWNER removes anyone; ADMIN removes MEMBERs only; MEMBER removes nobody else"
      'REMOVE_MEMBER          x x .',
      'REMOVE_ADMIN           x . .',
      'REMOVE_OWNER           . . .',
      // "updateMemberRole: OWNER only. Giving OWNER hands ownership over"
      'CHANGE_ROLE            x . .',
      'TRANSFER_OWNERSHIP     x . .',
      // "removing yourself is leaving (anyone, but the OWNER must first hand over ownership)"
      'LEAVE                  . x x',
      // "A muted member cannot send, react or set typing": typing is everyone's until then.
      'SET_TYPING             x x x',
      // "muteMember: OWNER mutes anyone but themselves; ADMIN mutes MEMBERs."
      'MUTE_MEMBER            x x .',
      'MUTE_ADMIN             x . .',
      'MUTE_OWNER             . . .',
      // "banMember: the same roles as removal ... The OWNER cannot be banned."
      'BAN_MEMBER             x x .',
      'BAN_ADMIN              x . .',
      'BAN_OWNER              . . .',
      // "setSlowMode(roomId, seconds): OWNER/ADMIN ... OWNER and ADMINs are exempt."
      'SET_SLOW_MODE          x x .',
      'SKIP_SLOW_MODE         x x .',
    ]);
  });

  it('DIRECT rooms: both are MEMBERs; they talk and pin, nobody is added, removed, changes role or leaves', () => {
    expect(render(RoomType.DIRECT)).to.deep.equal([
      'SEND_MESSAGE           . . x',
      'REACT                  . . x',
      'EDIT_OWN_MESSAGE       . . x',
      'DELETE_OWN_MESSAGE     . . x',
      'DELETE_OTHERS_MESSAGE  . . .',
      'PIN_MESSAGE            . . x',
      'ADD_MEMBER             . . .',
      'ADD_ADMIN              . . .',
      'REMOVE_MEMBER          . . .',
      'REMOVE_ADMIN           . . .',
      'REMOVE_OWNER           . . .',
      'CHANGE_ROLE            . . .',
      'TRANSFER_OWNERSHIP     . . .',
      'LEAVE                  . . .',
      'SET_TYPING             . . x',
      // Moderation is for GROUP rooms only.
      'MUTE_MEMBER            . . .',
      'MUTE_ADMIN             . . .',
      'MUTE_OWNER             . . .',
      'BAN_MEMBER             . . .',
      'BAN_ADMIN              . . .',
      'BAN_OWNER              . . .',
      'SET_SLOW_MODE          . . .',
      'SKIP_SLOW_MODE         . . .',
    ]);
  });

  it('says FORBIDDEN when the role is not enough, BAD_USER_INPUT when the operation does not apply to the room', () => {
    const cases: [RoomType, MemberRole, Permission, string][] = [
      [RoomType.GROUP, MemberRole.MEMBER, Permission.AddMember, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.ADMIN, Permission.AddAdmin, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.ADMIN, Permission.RemoveAdmin, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.ADMIN, Permission.RemoveOwner, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.MEMBER, Permission.PinMessage, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.ADMIN, Permission.ChangeRole, 'FORBIDDEN'],
      // "the OWNER must first hand over ownership: BAD_USER_INPUT"
      [RoomType.GROUP, MemberRole.OWNER, Permission.Leave, 'BAD_USER_INPUT'],
      // "addMembers: GROUP rooms only (BAD_USER_INPUT for DIRECT)"; "DIRECT rooms have no removal"; no roles to change.
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.AddMember, 'BAD_USER_INPUT'],
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.RemoveMember, 'BAD_USER_INPUT'],
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.Leave, 'BAD_USER_INPUT'],
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.ChangeRole, 'BAD_USER_INPUT'],
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.DeleteOthersMessage, 'BAD_USER_INPUT'],
      // Moderation: the target's role protects them (FORBIDDEN); a DIRECT room has none of it (BAD_USER_INPUT).
      [RoomType.GROUP, MemberRole.ADMIN, Permission.MuteAdmin, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.OWNER, Permission.MuteOwner, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.ADMIN, Permission.BanAdmin, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.OWNER, Permission.BanOwner, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.MEMBER, Permission.MuteMember, 'FORBIDDEN'],
      [RoomType.GROUP, MemberRole.MEMBER, Permission.SetSlowMode, 'FORBIDDEN'],
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.MuteMember, 'BAD_USER_INPUT'],
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.BanMember, 'BAD_USER_INPUT'],
      [RoomType.DIRECT, MemberRole.MEMBER, Permission.SetSlowMode, 'BAD_USER_INPUT'],
    ];
    for (const [type, role, permission, code] of cases) {
      expect(can(type, role, permission), `${type} ${role} ${permission}`).to.equal(false);
      expect(refusal(type, role, permission).code, `${type} ${role} ${permission}`).to.equal(code);
    }
  });
});
