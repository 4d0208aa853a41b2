import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { errorCode, gql, makeUser, ok, type TestUser, newUser } from './support/client';
import { directRoom, groupRoom, send, staffedRoom } from './support/factories';
import { signToken } from '../src/auth/token';
import { startServer, TEST_JWT_SECRET } from './support/server';
import { sleep } from './support/ws';

/** Rooms: creating DIRECT and GROUP rooms, reading one, the inbox, the company's rooms. */

const CREATE_DIRECT = `mutation($userId: ID!) {
  createDirectChat(userId: $userId) { id type name companyId memberCount members { role isActive user { id } } }
}`;
const CREATE_GROUP = `mutation($input: CreateGroupChatInput!) {
  createGroupChat(input: $input) {
    id type name companyId createdBy { id } memberCount
    myMembership { role isActive user { id } }
    members { role isActive user { id } }
  }
}`;
const ROOM = `query($id: ID!) { room(id: $id) { id type name companyId memberCount myMembership { role user { id } } } }`;
const ROOMS = `query($type: RoomType, $page: Int, $pageSize: Int) {
  rooms(type: $type, page: $page, pageSize: $pageSize) { total page pageSize pages items { id type lastMessageAt createdAt } }
}`;
const COMPANY_ROOMS = `query($page: Int, $pageSize: Int) {
  companyRooms(page: $page, pageSize: $pageSize) { total page pageSize pages items { id type name companyId } }
}`;
const DIRECT_CHAT = `query($userId: ID!) { directChat(userId: $userId) { id type } }`;

interface RoomPage {
  total: number;
  page: number;
  pageSize: number;
  pages: number;
  items: { id: string; type: string; lastMessageAt: string | null; createdAt: string }[];
}

/** The code and message of a request that must fail. */
async function failure(url: string, query: string, variables: Record<string, unknown>, token: string | null) {
  const res = await gql(url, query, variables, token);
  expect(res.errors, `expected an error, got ${JSON.stringify(res.data)}`).to.be.an('array').that.is.not.empty;
  const [error] = res.errors!;
  return { code: error.extensions.code, message: error.message };
}

async function roomsOf(url: string, user: TestUser, variables: Record<string, unknown> = {}): Promise<RoomPage> {
  return (await ok<{ rooms: RoomPage }>(url, ROOMS, variables, user.token)).rooms;
}

async function companyUsers(url: string, n: number, companyId: string = randomUUID()): Promise<TestUser[]> {
  const users: TestUser[] = [];
  for (let i = 0; i < n; i++) users.push(await newUser(url, { companyId }));
  return users;
}


describe('rooms', () => {
  describe('createDirectChat', () => {
    it('creates a DIRECT room without a name where both users are MEMBERs', async () => {
      const { url } = await startServer();
      const [a, b] = await companyUsers(url, 2);
      const { createDirectChat: room } = await ok(url, CREATE_DIRECT, { userId: b.id }, a.token);
      expect(room.type).to.equal('DIRECT');
      expect(room.name).to.equal(null);
      expect(room.memberCount).to.equal(2);
      expect(room.members.map((m: any) => m.user.id)).to.have.members([a.id, b.id]);
      for (const m of room.members) {
        expect(m.role).to.equal('MEMBER');
        expect(m.isActive).to.equal(true);
      }
    });

    it('returns the existing room on a repeat and when the other user calls', async () => {
      const { url } = await startServer();
      const [a, b] = await companyUsers(url, 2);
      const first = await directRoom(url, a, b);
      expect(await directRoom(url, a, b)).to.equal(first);
      expect(await directRoom(url, b, a)).to.equal(first);
      const page = await roomsOf(url, a, { type: 'DIRECT' });
      expect(page.total).to.equal(1);
      expect(page.items.map((r) => r.id)).to.deep.equal([first]);
    });

    it('works with a user who has never called the API', async () => {
      const { url } = await startServer();
      const [a] = await companyUsers(url, 1);
      const newcomer = await makeUser({ companyId: a.companyId });
      const roomId = await directRoom(url, a, newcomer);
      expect(await directRoom(url, newcomer, a)).to.equal(roomId);
    });

    it('refuses a chat with yourself with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const [a] = await companyUsers(url, 1);
      expect(await errorCode(url, CREATE_DIRECT, { userId: a.id }, a.token)).to.equal('BAD_USER_INPUT');
      expect((await roomsOf(url, a)).total).to.equal(0);
    });

    it('refuses a malformed user id with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const [a] = await companyUsers(url, 1);
      for (const userId of ['not-a-uuid', '', '123', `${randomUUID()}x`]) {
        expect(await errorCode(url, CREATE_DIRECT, { userId }, a.token), userId).to.equal('BAD_USER_INPUT');
      }
      expect((await roomsOf(url, a)).total).to.equal(0);
    });

    it('refuses a user known to belong to another company with FORBIDDEN', async () => {
      const { url } = await startServer();
      const [a] = await companyUsers(url, 1);
      const [outsider] = await companyUsers(url, 1);
      expect(await errorCode(url, CREATE_DIRECT, { userId: outsider.id }, a.token)).to.equal('FORBIDDEN');
      expect((await roomsOf(url, a)).total).to.equal(0);
      expect((await roomsOf(url, outsider)).total).to.equal(0);
    });

    it("never returns the pair's room to a token naming another company than the room's: NOT_FOUND, as room(id) answers", async () => {
      const { url } = await startServer();
      const alice = await newUser(url);
      const bob = await makeUser();
      const roomId = (await ok(url, `mutation($u: ID!) { createDirectChat(userId: $u) { id } }`, { u: bob.id }, alice.token)).createDirectChat.id;
      const elsewhere = await signToken(TEST_JWT_SECRET, { userId: alice.id, name: alice.name, companyId: randomUUID(), expiresIn: '1h' });
      const res = await gql(url, `mutation($u: ID!) { createDirectChat(userId: $u) { id companyId memberCount lastMessageAt myMembership { id } } }`, { u: bob.id }, elsewhere);
      const asRoom = await gql(url, `query($id: ID!) { room(id: $id) { id } }`, { id: roomId }, elsewhere);
      expect(res.errors?.[0].extensions.code).to.equal('NOT_FOUND');
      expect(res.errors?.[0].message).to.equal(asRoom.errors?.[0].message);
      expect(res.data ?? null).to.equal(null);
    });

    it('returns one and the same room when both users call 50 times at once', async () => {
      const { url } = await startServer();
      const [a, b] = await companyUsers(url, 2);
      const calls = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? directRoom(url, a, b) : directRoom(url, b, a)));
      const ids = await Promise.all(calls);
      expect(new Set(ids).size).to.equal(1);
      const [roomId] = ids;

      const fromA = await ok(url, DIRECT_CHAT, { userId: b.id }, a.token);
      const fromB = await ok(url, DIRECT_CHAT, { userId: a.id }, b.token);
      expect(fromA.directChat.id).to.equal(roomId);
      expect(fromB.directChat.id).to.equal(roomId);

      for (const user of [a, b]) {
        const page = await roomsOf(url, user);
        expect(page.total).to.equal(1);
        expect(page.items.map((r) => r.id)).to.deep.equal([roomId]);
      }
      const { room } = await ok(url, ROOM, { id: roomId }, a.token);
      expect(room.memberCount).to.equal(2);
    });
  });

  describe('createGroupChat', () => {
    it('trims the name, makes the creator OWNER and the others MEMBERs', async () => {
      const { url } = await startServer();
      const [owner, b, c] = await companyUsers(url, 3);
      const { createGroupChat: room } = await ok(
        url,
        CREATE_GROUP,
        { input: { name: '   Design team \t', memberIds: [b.id, c.id] } },
        owner.token,
      );
      expect(room.type).to.equal('GROUP');
      expect(room.name).to.equal('Design team');
      expect(room.createdBy.id).to.equal(owner.id);
      expect(room.memberCount).to.equal(3);
      expect(room.myMembership.role).to.equal('OWNER');
      const roles = Object.fromEntries(room.members.map((m: any) => [m.user.id, m.role]));
      expect(roles).to.deep.equal({ [owner.id]: 'OWNER', [b.id]: 'MEMBER', [c.id]: 'MEMBER' });
    });

    it('ignores duplicates and the creator in memberIds', async () => {
      const { url } = await startServer();
      const [owner, b, c] = await companyUsers(url, 3);
      const { createGroupChat: room } = await ok(
        url,
        CREATE_GROUP,
        { input: { name: 'Dups', memberIds: [b.id, owner.id, b.id, c.id, c.id, owner.id] } },
        owner.token,
      );
      expect(room.memberCount).to.equal(3);
      expect(room.members).to.have.length(3);
      const owners = room.members.filter((m: any) => m.role === 'OWNER');
      expect(owners.map((m: any) => m.user.id)).to.deep.equal([owner.id]);
    });

    it('accepts a group with only the creator', async () => {
      const { url } = await startServer();
      const [owner] = await companyUsers(url, 1);
      const { createGroupChat: room } = await ok(url, CREATE_GROUP, { input: { name: 'Solo', memberIds: [] } }, owner.token);
      expect(room.memberCount).to.equal(1);
      expect(room.myMembership.role).to.equal('OWNER');
    });

    it('refuses a blank name or one over 100 characters with BAD_USER_INPUT and stores nothing', async () => {
      const { url } = await startServer();
      const [owner, b] = await companyUsers(url, 2);
      for (const name of ['', '   ', '\t\n', 'x'.repeat(101), ` ${'y'.repeat(101)} `]) {
        const code = await errorCode(url, CREATE_GROUP, { input: { name, memberIds: [b.id] } }, owner.token);
        expect(code, JSON.stringify(name)).to.equal('BAD_USER_INPUT');
      }
      expect((await roomsOf(url, owner)).total).to.equal(0);
      expect((await roomsOf(url, b)).total).to.equal(0);
    });

    it('accepts 100 characters, counted after trimming', async () => {
      const { url } = await startServer();
      const [owner] = await companyUsers(url, 1);
      const name = 'n'.repeat(100);
      const { createGroupChat: room } = await ok(url, CREATE_GROUP, { input: { name: `  ${name}  `, memberIds: [] } }, owner.token);
      expect(room.name).to.equal(name);
    });

    it('refuses malformed member ids with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const [owner] = await companyUsers(url, 1);
      const code = await errorCode(url, CREATE_GROUP, { input: { name: 'Bad', memberIds: ['nope'] } }, owner.token);
      expect(code).to.equal('BAD_USER_INPUT');
      expect((await roomsOf(url, owner)).total).to.equal(0);
    });

    it("gives the room the creator's company", async () => {
      const { url } = await startServer();
      const [owner, b] = await companyUsers(url, 2);
      const { createGroupChat: room } = await ok(url, CREATE_GROUP, { input: { name: 'Co', memberIds: [b.id] } }, owner.token);
      expect(room.companyId).to.equal(owner.companyId);

      const loner = await newUser(url, { companyId: null });
      const { createGroupChat: free } = await ok(url, CREATE_GROUP, { input: { name: 'Free', memberIds: [] } }, loner.token);
      expect(free.companyId).to.equal(null);
    });

    it('refuses a member known to belong to another company with FORBIDDEN', async () => {
      const { url } = await startServer();
      const [owner, b] = await companyUsers(url, 2);
      const [outsider] = await companyUsers(url, 1);
      const code = await errorCode(url, CREATE_GROUP, { input: { name: 'Mixed', memberIds: [b.id, outsider.id] } }, owner.token);
      expect(code).to.equal('FORBIDDEN');
      expect((await roomsOf(url, owner)).total).to.equal(0);
      expect((await roomsOf(url, b)).total).to.equal(0);
    });
  });

  describe('room(id)', () => {
    it('shows the room and my membership to an active member', async () => {
      const { url } = await startServer();
      const { roomId, member, companyId } = await staffedRoom(url);
      const { room } = await ok(url, ROOM, { id: roomId }, member.token);
      expect(room.id).to.equal(roomId);
      expect(room.type).to.equal('GROUP');
      expect(room.companyId).to.equal(companyId);
      expect(room.memberCount).to.equal(3);
      expect(room.myMembership.role).to.equal('MEMBER');
      expect(room.myMembership.user.id).to.equal(member.id);
    });

    it('answers a non-member exactly as a room that does not exist', async () => {
      const { url } = await startServer();
      const { roomId, stranger, outsider } = await staffedRoom(url);
      const missing = await failure(url, ROOM, { id: randomUUID() }, stranger.token);
      const hidden = await failure(url, ROOM, { id: roomId }, stranger.token);
      const foreign = await failure(url, ROOM, { id: roomId }, outsider.token);
      expect(missing.code).to.equal('NOT_FOUND');
      expect(hidden).to.deep.equal(missing);
      expect(foreign).to.deep.equal(missing);
    });

    it('does not leak a DIRECT room to a third user', async () => {
      const { url } = await startServer();
      const [a, b, c] = await companyUsers(url, 3);
      const roomId = await directRoom(url, a, b);
      const missing = await failure(url, ROOM, { id: randomUUID() }, c.token);
      expect(await failure(url, ROOM, { id: roomId }, c.token)).to.deep.equal(missing);
    });

    it('refuses a malformed id with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const [a] = await companyUsers(url, 1);
      expect(await errorCode(url, ROOM, { id: 'room-1' }, a.token)).to.equal('BAD_USER_INPUT');
    });
  });

  describe('rooms', () => {
    it('pages the rooms with page, pageSize, total and pages', async () => {
      const { url } = await startServer();
      const [me] = await companyUsers(url, 1);
      const created: string[] = [];
      for (let i = 0; i < 5; i++) created.push(await groupRoom(url, me, [], `Room ${i}`));

      const first = await roomsOf(url, me, { page: 1, pageSize: 2 });
      expect({ total: first.total, page: first.page, pageSize: first.pageSize, pages: first.pages }).to.deep.equal({
        total: 5,
        page: 1,
        pageSize: 2,
        pages: 3,
      });
      expect(first.items).to.have.length(2);
      const second = await roomsOf(url, me, { page: 2, pageSize: 2 });
      const third = await roomsOf(url, me, { page: 3, pageSize: 2 });
      expect(second.page).to.equal(2);
      expect(second.items).to.have.length(2);
      expect(third.items).to.have.length(1);
      const seen = [...first.items, ...second.items, ...third.items].map((r) => r.id);
      expect(seen).to.have.members(created);

      const beyond = await roomsOf(url, me, { page: 4, pageSize: 2 });
      expect(beyond.items).to.deep.equal([]);
      expect(beyond.total).to.equal(5);
      expect(beyond.pages).to.equal(3);

      const all = await roomsOf(url, me, { pageSize: 100 });
      expect(all.items.map((r) => r.id)).to.have.members(created);
      expect(all.pages).to.equal(1);
    });

    it('uses page 1 and 20 rooms per page by default', async () => {
      const { url } = await startServer();
      const [me] = await companyUsers(url, 1);
      await groupRoom(url, me, [], 'Only');
      const page = await roomsOf(url, me);
      expect(page).to.include({ page: 1, pageSize: 20, total: 1, pages: 1 });
    });

    it('reports no rooms and no pages for a user without rooms', async () => {
      const { url } = await startServer();
      const [me] = await companyUsers(url, 1);
      const page = await roomsOf(url, me);
      expect(page).to.deep.equal({ total: 0, page: 1, pageSize: 20, pages: 0, items: [] });
    });

    it('refuses pageSize 0 or 101 and page 0 with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const [me] = await companyUsers(url, 1);
      for (const variables of [{ pageSize: 0 }, { pageSize: 101 }, { pageSize: -1 }, { page: 0 }, { page: -3 }]) {
        expect(await errorCode(url, ROOMS, variables, me.token), JSON.stringify(variables)).to.equal('BAD_USER_INPUT');
      }
    });

    it('filters by type', async () => {
      const { url } = await startServer();
      const [me, b, c] = await companyUsers(url, 3);
      const g1 = await groupRoom(url, me, [b], 'G1');
      const g2 = await groupRoom(url, c, [me], 'G2');
      const d = await directRoom(url, me, b);

      const direct = await roomsOf(url, me, { type: 'DIRECT' });
      expect(direct.total).to.equal(1);
      expect(direct.items.map((r) => r.id)).to.deep.equal([d]);
      const groups = await roomsOf(url, me, { type: 'GROUP' });
      expect(groups.total).to.equal(2);
      expect(groups.items.map((r) => r.id)).to.have.members([g1, g2]);
      expect(groups.items.every((r) => r.type === 'GROUP')).to.equal(true);
      const everything = await roomsOf(url, me);
      expect(everything.total).to.equal(3);
    });

    it('orders by the last message, newest first, and rooms without messages by creation', async () => {
      const { url } = await startServer();
      const [me, other] = await companyUsers(url, 2);
      const r1 = await groupRoom(url, me, [other], 'R1');
      await sleep(5);
      const r2 = await groupRoom(url, me, [other], 'R2');
      await sleep(5);
      const r3 = await groupRoom(url, me, [other], 'R3');
      const order = async () => (await roomsOf(url, me)).items.map((r) => r.id);

      expect(await order()).to.deep.equal([r3, r2, r1]);
      await send(url, other, r1, 'first');
      expect(await order()).to.deep.equal([r1, r3, r2]);
      await sleep(5);
      await send(url, me, r2, 'second');
      expect(await order()).to.deep.equal([r2, r1, r3]);

      const page = await roomsOf(url, me);
      expect(page.items[0].lastMessageAt).to.be.a('string');
      expect(page.items[2].lastMessageAt).to.equal(null);
      expect(Date.parse(page.items[0].lastMessageAt!)).to.be.greaterThan(Date.parse(page.items[1].lastMessageAt!));
    });

    it('leaves out rooms the caller has left and rooms of others', async () => {
      const { url } = await startServer();
      const [me, other] = await companyUsers(url, 2);
      const kept = await groupRoom(url, other, [me], 'Kept');
      const left = await groupRoom(url, other, [me], 'Left');
      await groupRoom(url, other, [], 'Not mine');
      await ok(url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: left, u: me.id }, me.token);
      const page = await roomsOf(url, me);
      expect(page.total).to.equal(1);
      expect(page.items.map((r) => r.id)).to.deep.equal([kept]);
    });
  });

  describe('companyRooms', () => {
    it("lists the GROUP rooms of my company only, also those I am not in", async () => {
      const { url } = await startServer();
      const [me, colleague, third] = await companyUsers(url, 3);
      const [foreigner] = await companyUsers(url, 1);
      const mine = await groupRoom(url, me, [colleague], 'Mine');
      const theirs = await groupRoom(url, colleague, [third], 'Theirs');
      await directRoom(url, me, colleague);
      await groupRoom(url, foreigner, [], 'Foreign');
      const loner = await newUser(url);
      await groupRoom(url, loner, [], 'No company');

      const { companyRooms } = await ok(url, COMPANY_ROOMS, {}, me.token);
      expect(companyRooms.total).to.equal(2);
      expect(companyRooms.items.map((r: any) => r.id)).to.have.members([mine, theirs]);
      for (const r of companyRooms.items) {
        expect(r.type).to.equal('GROUP');
        expect(r.companyId).to.equal(me.companyId);
      }
    });

    it('pages company rooms', async () => {
      const { url } = await startServer();
      const [me] = await companyUsers(url, 1);
      for (let i = 0; i < 3; i++) await groupRoom(url, me, [], `C${i}`);
      const { companyRooms } = await ok(url, COMPANY_ROOMS, { page: 2, pageSize: 2 }, me.token);
      expect(companyRooms).to.include({ total: 3, page: 2, pageSize: 2, pages: 2 });
      expect(companyRooms.items).to.have.length(1);
      expect(await errorCode(url, COMPANY_ROOMS, { pageSize: 0 }, me.token)).to.equal('BAD_USER_INPUT');
      expect(await errorCode(url, COMPANY_ROOMS, { pageSize: 101 }, me.token)).to.equal('BAD_USER_INPUT');
      expect(await errorCode(url, COMPANY_ROOMS, { page: 0 }, me.token)).to.equal('BAD_USER_INPUT');
    });

    it('lists none for a user without a company', async () => {
      const { url } = await startServer();
      const loner = await newUser(url, { companyId: null });
      const other = await newUser(url, { companyId: null });
      await groupRoom(url, loner, [other], 'Companyless');
      await groupRoom(url, other, [], 'Also companyless');
      const { companyRooms } = await ok(url, COMPANY_ROOMS, {}, loner.token);
      expect(companyRooms.total).to.equal(0);
      expect(companyRooms.items).to.deep.equal([]);
    });
  });

  describe('directChat', () => {
    it('returns null when there is no direct room, and the room from either side once there is', async () => {
      const { url } = await startServer();
      const [a, b, c] = await companyUsers(url, 3);
      expect((await ok(url, DIRECT_CHAT, { userId: b.id }, a.token)).directChat).to.equal(null);
      const roomId = await directRoom(url, a, b);
      expect((await ok(url, DIRECT_CHAT, { userId: b.id }, a.token)).directChat).to.deep.equal({ id: roomId, type: 'DIRECT' });
      expect((await ok(url, DIRECT_CHAT, { userId: a.id }, b.token)).directChat.id).to.equal(roomId);
      expect((await ok(url, DIRECT_CHAT, { userId: c.id }, a.token)).directChat).to.equal(null);
    });

    it('refuses a malformed user id with BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const [a] = await companyUsers(url, 1);
      expect(await errorCode(url, DIRECT_CHAT, { userId: 'x' }, a.token)).to.equal('BAD_USER_INPUT');
    });
  });

  describe('without a token', () => {
    it('answers UNAUTHENTICATED to every room operation', async () => {
      const { url } = await startServer();
      const [a, b] = await companyUsers(url, 2);
      const roomId = await groupRoom(url, a, [b]);
      const calls: [string, Record<string, unknown>][] = [
        [ROOM, { id: roomId }],
        [ROOMS, {}],
        [COMPANY_ROOMS, {}],
        [DIRECT_CHAT, { userId: b.id }],
        [CREATE_DIRECT, { userId: b.id }],
        [CREATE_GROUP, { input: { name: 'Anon', memberIds: [a.id] } }],
      ];
      for (const [query, variables] of calls) {
        expect(await errorCode(url, query, variables, null), query).to.equal('UNAUTHENTICATED');
      }
      expect((await roomsOf(url, a)).total).to.equal(1);
    });
  });
});
