import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { errorCode, gql, makeUser, ok, type TestUser, newUser } from './support/client';
import { directRoom, groupRoom, promote, send, staffedRoom } from './support/factories';
import { startServer } from './support/server';
import { sleep } from './support/ws';
import { REMOVE_MEMBER } from './support/operations';

/** Members: adding, removing, roles and ownership, read state. */

const ADD = `mutation($r: ID!, $u: [ID!]!, $role: MemberRole) {
  addMembers(roomId: $r, userIds: $u, role: $role) { id role isActive removedAt joinedAt user { id } }
}`;
const ROLE = `mutation($r: ID!, $u: ID!, $role: MemberRole!) {
  updateMemberRole(roomId: $r, userId: $u, role: $role) { id role isActive user { id } }
}`;
const MARK_READ = `mutation($r: ID!, $at: DateTime) { markRoomRead(roomId: $r, at: $at) { lastReadAt role user { id } } }`;
const MEMBERS = `query($id: ID!, $activeOnly: Boolean) {
  room(id: $id) { id memberCount members(activeOnly: $activeOnly) { id role isActive joinedAt removedAt user { id } } }
}`;
const READ_STATE = `query($id: ID!) { room(id: $id) { unreadCount memberCount myMembership { role isActive lastReadAt user { id } } } }`;
const ROOM = `query($id: ID!) { room(id: $id) { id } }`;
const MESSAGES = `query($r: ID!) { messages(roomId: $r) { id } }`;
const ROOM_MESSAGES = `query($id: ID!) { room(id: $id) { messages { id } } }`;
const MESSAGE = `query($id: ID!) { message(id: $id) { id } }`;
const DELETE = `mutation($id: ID!) { deleteMessage(id: $id) { id isDeleted } }`;
const SEND_AT = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id createdAt } }`;

interface MemberView {
  id: string;
  role: 'OWNER' | 'ADMIN' | 'MEMBER';
  isActive: boolean;
  joinedAt: string;
  removedAt: string | null;
  user: { id: string };
}

async function members(url: string, viewer: TestUser, roomId: string, activeOnly = true): Promise<MemberView[]> {
  return (await ok<{ room: { members: MemberView[] } }>(url, MEMBERS, { id: roomId, activeOnly }, viewer.token)).room.members;
}

/** userId -> role of the active members, as `viewer` sees them. */
async function roles(url: string, viewer: TestUser, roomId: string): Promise<Record<string, string>> {
  return Object.fromEntries((await members(url, viewer, roomId)).map((m) => [m.user.id, m.role]));
}

async function readState(url: string, user: TestUser, roomId: string) {
  return (await ok(url, READ_STATE, { id: roomId }, user.token)).room as {
    unreadCount: number;
    memberCount: number;
    myMembership: { role: string; isActive: boolean; lastReadAt: string | null; user: { id: string } };
  };
}

async function sendAt(url: string, user: TestUser, roomId: string, content: string): Promise<{ id: string; createdAt: string }> {
  return (await ok(url, SEND_AT, { input: { roomId, content } }, user.token)).sendMessage;
}

/** The code and message of a request that must fail. */
async function failure(url: string, query: string, variables: Record<string, unknown>, token: string) {
  const res = await gql(url, query, variables, token);
  expect(res.errors, `expected an error, got ${JSON.stringify(res.data)}`).to.be.an('array').that.is.not.empty;
  return { code: res.errors![0].extensions.code, message: res.errors![0].message };
}

async function colleague(url: string, companyId: string, name?: string): Promise<TestUser> {
  return newUser(url, { companyId, name });
}


describe('members', () => {
  describe('addMembers', () => {
    it('lets the OWNER add MEMBERs and ADMINs', async () => {
      const { url } = await startServer();
      const { owner, roomId, companyId, stranger } = await staffedRoom(url);
      const newAdmin = await colleague(url, companyId);

      const asMember = (await ok(url, ADD, { r: roomId, u: [stranger.id] }, owner.token)).addMembers;
      expect(asMember).to.have.length(1);
      expect(asMember[0]).to.include({ role: 'MEMBER', isActive: true, removedAt: null });
      expect(asMember[0].user.id).to.equal(stranger.id);

      const asAdmin = (await ok(url, ADD, { r: roomId, u: [newAdmin.id], role: 'ADMIN' }, owner.token)).addMembers;
      expect(asAdmin.map((m: MemberView) => [m.user.id, m.role])).to.deep.equal([[newAdmin.id, 'ADMIN']]);

      const now = await roles(url, owner, roomId);
      expect(now[stranger.id]).to.equal('MEMBER');
      expect(now[newAdmin.id]).to.equal('ADMIN');
      expect(Object.keys(now)).to.have.length(5);
      // The new members see the room.
      expect((await ok(url, ROOM, { id: roomId }, stranger.token)).room.id).to.equal(roomId);
    });

    it('adds a user who has never called the API', async () => {
      const { url } = await startServer();
      const { owner, roomId, companyId } = await staffedRoom(url);
      const newcomer = await makeUser({ companyId });
      const added = (await ok(url, ADD, { r: roomId, u: [newcomer.id] }, owner.token)).addMembers;
      expect(added.map((m: MemberView) => m.user.id)).to.deep.equal([newcomer.id]);
      expect((await ok(url, ROOM, { id: roomId }, newcomer.token)).room.id).to.equal(roomId);
    });

    it('lets an ADMIN add MEMBERs but not ADMINs (FORBIDDEN)', async () => {
      const { url } = await startServer();
      const { owner, admin, roomId, companyId, stranger } = await staffedRoom(url);
      const other = await colleague(url, companyId);

      expect(await errorCode(url, ADD, { r: roomId, u: [other.id], role: 'ADMIN' }, admin.token)).to.equal('FORBIDDEN');
      expect(await roles(url, owner, roomId)).to.not.have.property(other.id);

      const added = (await ok(url, ADD, { r: roomId, u: [stranger.id] }, admin.token)).addMembers;
      expect(added.map((m: MemberView) => [m.user.id, m.role])).to.deep.equal([[stranger.id, 'MEMBER']]);
    });

    it('refuses a MEMBER with FORBIDDEN', async () => {
      const { url } = await startServer();
      const { owner, member, roomId, stranger } = await staffedRoom(url);
      expect(await errorCode(url, ADD, { r: roomId, u: [stranger.id] }, member.token)).to.equal('FORBIDDEN');
      expect(await errorCode(url, ADD, { r: roomId, u: [stranger.id], role: 'ADMIN' }, member.token)).to.equal('FORBIDDEN');
      expect(await roles(url, owner, roomId)).to.not.have.property(stranger.id);
    });

    it('answers a non-member NOT_FOUND, exactly as for a room that does not exist', async () => {
      const { url } = await startServer();
      const { owner, roomId, stranger, companyId } = await staffedRoom(url);
      const other = await colleague(url, companyId);
      const missing = await failure(url, ADD, { r: randomUUID(), u: [other.id] }, stranger.token);
      const hidden = await failure(url, ADD, { r: roomId, u: [other.id] }, stranger.token);
      expect(missing.code).to.equal('NOT_FOUND');
      expect(hidden).to.deep.equal(missing);
      expect(await roles(url, owner, roomId)).to.not.have.property(other.id);
    });

    it('never grants OWNER (BAD_USER_INPUT)', async () => {
      const { url } = await startServer();
      const { owner, admin, roomId, stranger, member } = await staffedRoom(url);
      expect(await errorCode(url, ADD, { r: roomId, u: [stranger.id], role: 'OWNER' }, owner.token)).to.equal('BAD_USER_INPUT');
      expect(await errorCode(url, ADD, { r: roomId, u: [member.id], role: 'OWNER' }, owner.token)).to.equal('BAD_USER_INPUT');
      const now = await roles(url, owner, roomId);
      expect(now).to.deep.equal({ [owner.id]: 'OWNER', [admin.id]: 'ADMIN', [member.id]: 'MEMBER' });
    });

    it('refuses a DIRECT room with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const { owner, member, stranger } = await staffedRoom(url);
      const roomId = await directRoom(url, owner, member);
      expect(await errorCode(url, ADD, { r: roomId, u: [stranger.id] }, owner.token)).to.equal('BAD_USER_INPUT');
      expect((await members(url, owner, roomId)).map((m) => m.user.id)).to.have.members([owner.id, member.id]);
    });

    it('refuses users of another company (FORBIDDEN) and malformed ids (BAD_USER_INPUT)', async () => {
      const { url } = await startServer();
      const { owner, roomId, outsider, stranger } = await staffedRoom(url);
      expect(await errorCode(url, ADD, { r: roomId, u: [stranger.id, outsider.id] }, owner.token)).to.equal('FORBIDDEN');
      expect(await errorCode(url, ADD, { r: roomId, u: [stranger.id, 'nope'] }, owner.token)).to.equal('BAD_USER_INPUT');
      expect(await errorCode(url, ADD, { r: 'room', u: [stranger.id] }, owner.token)).to.equal('BAD_USER_INPUT');
      const now = await roles(url, owner, roomId);
      expect(now).to.not.have.property(stranger.id);
      expect(now).to.not.have.property(outsider.id);
    });

    it('skips users who are already active and returns only those added', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId, stranger } = await staffedRoom(url);
      const before = await members(url, owner, roomId);

      const added = (await ok(url, ADD, { r: roomId, u: [member.id, admin.id, stranger.id, stranger.id] }, owner.token)).addMembers;
      expect(added.map((m: MemberView) => m.user.id)).to.deep.equal([stranger.id]);

      const after = await members(url, owner, roomId);
      expect(after).to.have.length(4);
      for (const old of before) {
        // Role and join time of the skipped members are untouched.
        expect(after.find((m) => m.user.id === old.user.id)).to.deep.equal(old);
      }
      const again = (await ok(url, ADD, { r: roomId, u: [admin.id], role: 'MEMBER' }, owner.token)).addMembers;
      expect(again).to.deep.equal([]);
      expect((await roles(url, owner, roomId))[admin.id]).to.equal('ADMIN');
    });

    it('brings a removed member back, active again', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token);
      expect(await errorCode(url, ROOM, { id: roomId }, member.token)).to.equal('NOT_FOUND');

      const back = (await ok(url, ADD, { r: roomId, u: [member.id] }, owner.token)).addMembers;
      expect(back).to.have.length(1);
      expect(back[0]).to.include({ isActive: true, removedAt: null, role: 'MEMBER' });
      expect(back[0].user.id).to.equal(member.id);

      const all = await members(url, owner, roomId, false);
      expect(all.filter((m) => m.user.id === member.id)).to.have.length(1);
      expect((await readState(url, owner, roomId)).memberCount).to.equal(3);
      expect((await ok(url, ROOM, { id: roomId }, member.token)).room.id).to.equal(roomId);
    });
  });

  describe('removeMember', () => {
    it('lets the OWNER remove an ADMIN and a MEMBER', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: admin.id }, owner.token)).removeMember).to.equal(true);
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token)).removeMember).to.equal(true);
      expect(await roles(url, owner, roomId)).to.deep.equal({ [owner.id]: 'OWNER' });
    });

    it('lets an ADMIN remove a MEMBER but not an ADMIN or the OWNER (FORBIDDEN)', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId, stranger } = await staffedRoom(url);
      await ok(url, ADD, { r: roomId, u: [stranger.id], role: 'ADMIN' }, owner.token);

      expect(await errorCode(url, REMOVE_MEMBER, { r: roomId, u: stranger.id }, admin.token)).to.equal('FORBIDDEN');
      expect(await errorCode(url, REMOVE_MEMBER, { r: roomId, u: owner.id }, admin.token)).to.equal('FORBIDDEN');
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, admin.token)).removeMember).to.equal(true);

      expect(await roles(url, owner, roomId)).to.deep.equal({ [owner.id]: 'OWNER', [admin.id]: 'ADMIN', [stranger.id]: 'ADMIN' });
    });

    it('lets a MEMBER remove nobody else (FORBIDDEN)', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId, companyId, stranger } = await staffedRoom(url);
      const peer = await colleague(url, companyId);
      await ok(url, ADD, { r: roomId, u: [peer.id] }, owner.token);
      for (const target of [peer, admin, owner, stranger]) {
        expect(await errorCode(url, REMOVE_MEMBER, { r: roomId, u: target.id }, member.token), target.name).to.equal('FORBIDDEN');
      }
      expect(Object.keys(await roles(url, owner, roomId))).to.have.members([owner.id, admin.id, member.id, peer.id]);
    });

    it('answers false when the OWNER or an ADMIN removes someone who is not an active member', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId, stranger } = await staffedRoom(url);
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: stranger.id }, owner.token)).removeMember).to.equal(false);
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: randomUUID() }, admin.token)).removeMember).to.equal(false);
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token);
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token)).removeMember).to.equal(false);
    });

    it('lets a MEMBER and an ADMIN leave', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, member.token)).removeMember).to.equal(true);
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: admin.id }, admin.token)).removeMember).to.equal(true);
      expect(await roles(url, owner, roomId)).to.deep.equal({ [owner.id]: 'OWNER' });
      expect(await errorCode(url, ROOM, { id: roomId }, member.token)).to.equal('NOT_FOUND');
      expect(await errorCode(url, ROOM, { id: roomId }, admin.token)).to.equal('NOT_FOUND');
    });

    it('refuses the OWNER leaving with BAD_USER_INPUT until ownership is handed over', async () => {
      const { url } = await startServer();
      const { owner, admin, roomId } = await staffedRoom(url);
      expect(await errorCode(url, REMOVE_MEMBER, { r: roomId, u: owner.id }, owner.token)).to.equal('BAD_USER_INPUT');
      expect((await roles(url, owner, roomId))[owner.id]).to.equal('OWNER');

      await promote(url, owner, roomId, admin, 'OWNER');
      expect((await ok(url, REMOVE_MEMBER, { r: roomId, u: owner.id }, owner.token)).removeMember).to.equal(true);
      const now = await roles(url, admin, roomId);
      expect(now[admin.id]).to.equal('OWNER');
      expect(now).to.not.have.property(owner.id);
    });

    it('refuses removal from a DIRECT room with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const { owner, member } = await staffedRoom(url);
      const roomId = await directRoom(url, owner, member);
      expect(await errorCode(url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token)).to.equal('BAD_USER_INPUT');
      expect(await errorCode(url, REMOVE_MEMBER, { r: roomId, u: owner.id }, owner.token)).to.equal('BAD_USER_INPUT');
      expect((await members(url, member, roomId)).map((m) => m.user.id)).to.have.members([owner.id, member.id]);
    });

    it('answers a non-member NOT_FOUND and refuses malformed ids with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const { owner, member, roomId, stranger } = await staffedRoom(url);
      const missing = await failure(url, REMOVE_MEMBER, { r: randomUUID(), u: member.id }, stranger.token);
      expect(missing.code).to.equal('NOT_FOUND');
      expect(await failure(url, REMOVE_MEMBER, { r: roomId, u: member.id }, stranger.token)).to.deep.equal(missing);
      expect(await errorCode(url, REMOVE_MEMBER, { r: roomId, u: 'x' }, owner.token)).to.equal('BAD_USER_INPUT');
      expect(await errorCode(url, REMOVE_MEMBER, { r: 'x', u: member.id }, owner.token)).to.equal('BAD_USER_INPUT');
      expect(await roles(url, owner, roomId)).to.have.property(member.id, 'MEMBER');
    });

    it('is soft: the removed member stays in members(activeOnly: false), inactive with removedAt', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      const startedAt = Date.now();
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, admin.token);

      const active = await members(url, owner, roomId);
      expect(active.map((m) => m.user.id)).to.have.members([owner.id, admin.id]);
      const all = await members(url, owner, roomId, false);
      expect(all.map((m) => m.user.id)).to.have.members([owner.id, admin.id, member.id]);
      const removed = all.find((m) => m.user.id === member.id)!;
      expect(removed.isActive).to.equal(false);
      expect(removed.removedAt).to.be.a('string');
      expect(Date.parse(removed.removedAt!)).to.be.within(startedAt - 5_000, Date.now() + 5_000);
      expect(removed.role).to.equal('MEMBER');
      for (const m of all.filter((x) => x.user.id !== member.id)) {
        expect(m.isActive).to.equal(true);
        expect(m.removedAt).to.equal(null);
      }
      expect((await readState(url, owner, roomId)).memberCount).to.equal(2);
    });

    it('hides the room and its messages from the removed user, as if it did not exist', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      const old = await send(url, member, roomId, 'before removal');
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token);

      const missingRoom = await failure(url, ROOM, { id: randomUUID() }, member.token);
      expect(missingRoom.code).to.equal('NOT_FOUND');
      expect(await failure(url, ROOM, { id: roomId }, member.token)).to.deep.equal(missingRoom);
      expect(await failure(url, MESSAGES, { r: roomId }, member.token)).to.deep.equal(
        await failure(url, MESSAGES, { r: randomUUID() }, member.token),
      );
      expect((await failure(url, MESSAGES, { r: roomId }, member.token)).code).to.equal('NOT_FOUND');
      expect((await failure(url, ROOM_MESSAGES, { id: roomId }, member.token)).code).to.equal('NOT_FOUND');
      expect((await failure(url, MESSAGE, { id: old.id }, member.token)).code).to.equal('NOT_FOUND');
      const sendCode = await errorCode(
        url,
        `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { roomId, content: 'still here?' } },
        member.token,
      );
      expect(sendCode).to.equal('NOT_FOUND');
      const { rooms } = await ok(url, `{ rooms { total items { id } } }`, {}, member.token);
      expect(rooms.items.map((r: { id: string }) => r.id)).to.not.include(roomId);
      // The history stays for the others.
      const { messages } = await ok(url, MESSAGES, { r: roomId }, owner.token);
      expect(messages.map((m: { id: string }) => m.id)).to.include(old.id);
    });
  });

  describe('updateMemberRole', () => {
    it('is rate limited per user and room (ROLE_RATE_LIMIT): the refused change changes nothing', async () => {
      const { url } = await startServer({ env: { ROLE_RATE_LIMIT: '3/60' } });
      // staffedRoom promotes its ADMIN: the first of the three.
      const { owner, member, roomId } = await staffedRoom(url);
      await ok(url, ROLE, { r: roomId, u: member.id, role: 'ADMIN' }, owner.token);
      await ok(url, ROLE, { r: roomId, u: member.id, role: 'MEMBER' }, owner.token);
      const refused = await gql(url, ROLE, { r: roomId, u: member.id, role: 'ADMIN' }, owner.token);
      expect(refused.errors?.[0].extensions).to.deep.include({ code: 'RATE_LIMITED' });
      expect(refused.status).to.equal(429);
      expect((await roles(url, owner, roomId))[member.id]).to.equal('MEMBER');
    });

    it('lets the OWNER promote a MEMBER to ADMIN and demote an ADMIN to MEMBER', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      const promoted = (await ok(url, ROLE, { r: roomId, u: member.id, role: 'ADMIN' }, owner.token)).updateMemberRole;
      expect(promoted).to.include({ role: 'ADMIN', isActive: true });
      expect(promoted.user.id).to.equal(member.id);
      const demoted = (await ok(url, ROLE, { r: roomId, u: admin.id, role: 'MEMBER' }, owner.token)).updateMemberRole;
      expect(demoted.role).to.equal('MEMBER');
      expect(await roles(url, owner, roomId)).to.deep.equal({ [owner.id]: 'OWNER', [admin.id]: 'MEMBER', [member.id]: 'ADMIN' });
    });

    it('refuses an ADMIN and a MEMBER with FORBIDDEN', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      for (const [actor, target, role] of [
        [admin, member, 'ADMIN'],
        [admin, admin, 'OWNER'],
        [admin, owner, 'MEMBER'],
        [member, member, 'ADMIN'],
        [member, admin, 'MEMBER'],
        [member, member, 'OWNER'],
      ] as const) {
        const code = await errorCode(url, ROLE, { r: roomId, u: target.id, role }, actor.token);
        expect(code, `${actor.name} -> ${target.name} ${role}`).to.equal('FORBIDDEN');
      }
      expect(await roles(url, owner, roomId)).to.deep.equal({ [owner.id]: 'OWNER', [admin.id]: 'ADMIN', [member.id]: 'MEMBER' });
    });

    it('answers a non-member NOT_FOUND and refuses a DIRECT room with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const { owner, member, roomId, stranger } = await staffedRoom(url);
      const missing = await failure(url, ROLE, { r: randomUUID(), u: member.id, role: 'ADMIN' }, stranger.token);
      expect(missing.code).to.equal('NOT_FOUND');
      expect(await failure(url, ROLE, { r: roomId, u: member.id, role: 'ADMIN' }, stranger.token)).to.deep.equal(missing);
      const direct = await directRoom(url, owner, member);
      expect(await errorCode(url, ROLE, { r: direct, u: member.id, role: 'ADMIN' }, owner.token)).to.equal('BAD_USER_INPUT');
      expect((await roles(url, owner, roomId))[member.id]).to.equal('MEMBER');
    });

    it('hands ownership over when giving OWNER: the old owner becomes ADMIN, one OWNER remains', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      const newOwner = (await ok(url, ROLE, { r: roomId, u: member.id, role: 'OWNER' }, owner.token)).updateMemberRole;
      expect(newOwner.role).to.equal('OWNER');
      expect(newOwner.user.id).to.equal(member.id);

      const now = await roles(url, admin, roomId);
      expect(now).to.deep.equal({ [owner.id]: 'ADMIN', [admin.id]: 'ADMIN', [member.id]: 'OWNER' });
      expect(Object.values(now).filter((r) => r === 'OWNER')).to.have.length(1);

      // The old owner has lost the right to change roles; the new one has it.
      expect(await errorCode(url, ROLE, { r: roomId, u: admin.id, role: 'MEMBER' }, owner.token)).to.equal('FORBIDDEN');
      await ok(url, ROLE, { r: roomId, u: owner.id, role: 'MEMBER' }, member.token);
      expect((await roles(url, member, roomId))[owner.id]).to.equal('MEMBER');
      expect((await readState(url, member, roomId)).myMembership.role).to.equal('OWNER');
    });

    it('lets only one of two simultaneous hand-overs through, leaving exactly one active OWNER', async () => {
      const { url } = await startServer();
      for (let round = 0; round < 5; round++) {
        const { owner, admin, member, roomId } = await staffedRoom(url);
        const results = await Promise.all([
          gql(url, ROLE, { r: roomId, u: admin.id, role: 'OWNER' }, owner.token),
          gql(url, ROLE, { r: roomId, u: member.id, role: 'OWNER' }, owner.token),
        ]);
        // The second hand-over finds its caller already demoted to ADMIN.
        expect(results.filter((r) => !r.errors), `round ${round}: exactly one hand-over succeeds`).to.have.length(1);
        expect(results.find((r) => r.errors)?.errors?.[0].extensions.code).to.equal('FORBIDDEN');
        const all = await members(url, admin, roomId, false).catch(() => members(url, member, roomId, false));
        const owners = all.filter((m) => m.role === 'OWNER' && m.isActive);
        expect(owners, `round ${round}`).to.have.length(1);
        expect([admin.id, member.id]).to.include(owners[0].user.id);
        expect(all.find((m) => m.user.id === owner.id)!.role).to.equal('ADMIN');
      }
    });

    it('refuses the OWNER stepping down without naming a successor (BAD_USER_INPUT)', async () => {
      const { url } = await startServer();
      const { owner, roomId } = await staffedRoom(url);
      expect(await errorCode(url, ROLE, { r: roomId, u: owner.id, role: 'ADMIN' }, owner.token)).to.equal('BAD_USER_INPUT');
      expect((await roles(url, owner, roomId))[owner.id]).to.equal('OWNER');
    });

    it('answers NOT_FOUND for a target who is not an active member', async () => {
      const { url } = await startServer();
      const { owner, member, stranger, roomId } = await staffedRoom(url);
      expect(await errorCode(url, ROLE, { r: roomId, u: stranger.id, role: 'ADMIN' }, owner.token)).to.equal('NOT_FOUND');
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token);
      expect(await errorCode(url, ROLE, { r: roomId, u: member.id, role: 'OWNER' }, owner.token)).to.equal('NOT_FOUND');
      expect((await roles(url, owner, roomId))[owner.id]).to.equal('OWNER');
    });
  });

  describe('markRoomRead and unreadCount', () => {
    it('counts the messages of others after lastReadAt, not my own and not deleted ones', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      expect((await readState(url, owner, roomId)).unreadCount).to.equal(0);

      await send(url, admin, roomId, 'a1');
      const doomed = await send(url, admin, roomId, 'a2');
      await send(url, member, roomId, 'm1');
      await send(url, owner, roomId, 'o1');

      expect((await readState(url, owner, roomId)).unreadCount).to.equal(3);
      expect((await readState(url, admin, roomId)).unreadCount).to.equal(2);
      expect((await readState(url, member, roomId)).unreadCount).to.equal(3);

      await ok(url, DELETE, { id: doomed.id }, admin.token);
      expect((await readState(url, owner, roomId)).unreadCount).to.equal(2);
      expect((await readState(url, member, roomId)).unreadCount).to.equal(2);
    });

    it('marks everything read by default and counts what comes after', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      await send(url, member, roomId, 'one');
      await send(url, member, roomId, 'two');
      const before = Date.now();
      const marked = (await ok(url, MARK_READ, { r: roomId }, owner.token)).markRoomRead;
      expect(marked.user.id).to.equal(owner.id);
      expect(Date.parse(marked.lastReadAt)).to.be.within(before - 5_000, Date.now() + 5_000);

      const state = await readState(url, owner, roomId);
      expect(state.unreadCount).to.equal(0);
      expect(state.myMembership.lastReadAt).to.equal(marked.lastReadAt);

      await send(url, member, roomId, 'three');
      expect((await readState(url, owner, roomId)).unreadCount).to.equal(1);
      // Reading is per member.
      expect((await readState(url, member, roomId)).unreadCount).to.equal(0);
    });

    it('marks read up to `at`, counting only what came later', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      const first = await sendAt(url, member, roomId, 'one');
      await sleep(30);
      await send(url, member, roomId, 'two');
      await send(url, member, roomId, 'three');
      const at = new Date(Date.parse(first.createdAt) + 10).toISOString();
      await ok(url, MARK_READ, { r: roomId, at }, owner.token);
      expect((await readState(url, owner, roomId)).unreadCount).to.equal(2);
    });

    it('never moves lastReadAt back when given an older `at`', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      await send(url, member, roomId, 'one');
      const marked = (await ok(url, MARK_READ, { r: roomId }, owner.token)).markRoomRead;
      // Older, but still after the room was created (earlier than that is refused: see the next tests).
      const older = new Date(Date.parse(marked.lastReadAt) - 1).toISOString();
      const again = (await ok(url, MARK_READ, { r: roomId, at: older }, owner.token)).markRoomRead;
      expect(again.lastReadAt).to.equal(marked.lastReadAt);
      const state = await readState(url, owner, roomId);
      expect(state.myMembership.lastReadAt).to.equal(marked.lastReadAt);
      expect(state.unreadCount).to.equal(0);
    });

    it('clamps an `at` in the future to now, so later messages are still unread', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      const future = new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString();
      const marked = (await ok(url, MARK_READ, { r: roomId, at: future }, owner.token)).markRoomRead;
      expect(Date.parse(marked.lastReadAt)).to.be.below(Date.now() + 5_000);
      await sleep(5);
      await send(url, member, roomId, 'after');
      expect((await readState(url, owner, roomId)).unreadCount).to.equal(1);
    });

    it('answers a non-member NOT_FOUND and refuses a malformed id with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const { roomId, stranger, owner } = await staffedRoom(url);
      const missing = await failure(url, MARK_READ, { r: randomUUID() }, stranger.token);
      expect(missing.code).to.equal('NOT_FOUND');
      expect(await failure(url, MARK_READ, { r: roomId }, stranger.token)).to.deep.equal(missing);
      expect(await errorCode(url, MARK_READ, { r: 'x' }, owner.token)).to.equal('BAD_USER_INPUT');
    });
  });

  describe('memberCount and myMembership', () => {
    it('count active members and show each caller their own membership', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      for (const [user, role] of [
        [owner, 'OWNER'],
        [admin, 'ADMIN'],
        [member, 'MEMBER'],
      ] as const) {
        const state = await readState(url, user, roomId);
        expect(state.memberCount).to.equal(3);
        expect(state.myMembership).to.deep.equal({ role, isActive: true, lastReadAt: null, user: { id: user.id } });
      }
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, member.token);
      expect((await readState(url, owner, roomId)).memberCount).to.equal(2);
    });

    it('shows memberCount and myMembership in the rooms list', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      const direct = await directRoom(url, owner, member);
      const { rooms } = await ok(url, `{ rooms { items { id memberCount myMembership { role user { id } } } } }`, {}, member.token);
      const byId = Object.fromEntries(rooms.items.map((r: any) => [r.id, r]));
      expect(byId[roomId].memberCount).to.equal(3);
      expect(byId[roomId].myMembership).to.deep.equal({ role: 'MEMBER', user: { id: member.id } });
      expect(byId[direct].memberCount).to.equal(2);
      expect(byId[direct].myMembership.role).to.equal('MEMBER');
    });

    it('lists the members of a room with their roles', async () => {
      const { url } = await startServer();
      const [owner, a, b] = [
        await newUser(url),
        await newUser(url),
        await newUser(url),
      ];
      const roomId = await groupRoom(url, owner, [a, b]);
      const list = await members(url, b, roomId);
      expect(list.map((m) => [m.user.id, m.role])).to.have.deep.members([
        [owner.id, 'OWNER'],
        [a.id, 'MEMBER'],
        [b.id, 'MEMBER'],
      ]);
      expect(list.every((m) => m.isActive && m.removedAt === null)).to.equal(true);
    });
  });
});
