import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { gql, newUser, ok, type GraphQLResponse, type TestUser } from './support/client';
import { directRoom, groupRoom, send, staffedRoom } from './support/factories';
import { ADD_MEMBERS, ADD_REACTION, EDIT, REMOVE_MEMBER, REMOVE_REACTION, SET_TYPING } from './support/operations';
import { countRows, startServer, wsClient, type TestServer } from './support/server';
import { collect, ready, sleep, waitFor } from './support/ws';
import { testDatabaseUrl } from './support/hooks';
import pg from 'pg';

/** Moderation: mute, ban and slow mode (BEHAVIOUR.md, "Moderation"). */

const MUTE = `mutation($r: ID!, $u: ID!, $until: DateTime) { muteMember(roomId: $r, userId: $u, until: $until) { id role isActive mutedUntil user { id } } }`;
const UNMUTE = `mutation($r: ID!, $u: ID!) { unmuteMember(roomId: $r, userId: $u) { id mutedUntil } }`;
const BAN = `mutation($r: ID!, $u: ID!) { banMember(roomId: $r, userId: $u) }`;
const UNBAN = `mutation($r: ID!, $u: ID!) { unbanMember(roomId: $r, userId: $u) }`;
const SLOW = `mutation($r: ID!, $s: Int!) { setSlowMode(roomId: $r, seconds: $s) { id slowModeSeconds } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content createdAt } }`;
const PIN = `mutation($id: ID!) { pinMessage(id: $id) { id pinnedAt } }`;
const MEMBERS = `query($id: ID!) { room(id: $id) { slowModeSeconds members(activeOnly: false) { isActive mutedUntil user { id } } } }`;
const ADD = `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id user { id } } }`;
const CHANGES = `query($since: String) { changes(since: $since, limit: 500) { cursor messages { id content } memberships { id isActive mutedUntil room { id } } } }`;

/** The first error of a request that must fail: its code and extensions. */
async function refused(url: string, query: string, variables: Record<string, unknown>, user: TestUser): Promise<{ message: string; extensions: { code: string; [k: string]: unknown } }> {
  const res = await gql(url, query, variables, user.token);
  expect(res.errors, `expected a refusal, got ${JSON.stringify(res.data)}`).to.be.an('array').that.is.not.empty;
  return res.errors![0];
}

async function code(url: string, query: string, variables: Record<string, unknown>, user: TestUser): Promise<string> {
  return (await refused(url, query, variables, user)).extensions.code;
}

/** The membership of `user` as `viewer` sees the room's member list (all, active or not). */
async function membership(url: string, viewer: TestUser, roomId: string, user: TestUser): Promise<{ isActive: boolean; mutedUntil: string | null } | undefined> {
  const { room } = await ok(url, MEMBERS, { id: roomId }, viewer.token);
  return room.members.find((m: { user: { id: string } }) => m.user.id === user.id);
}

async function storedMessages(server: TestServer, roomId: string, sender: TestUser): Promise<number> {
  return countRows(server, `SELECT count(*)::int AS n FROM messages WHERE room_id = $1 AND sender_id = $2`, [roomId, sender.id]);
}

function sendAll(url: string, user: TestUser, roomId: string, n: number): Promise<GraphQLResponse>[] {
  return Array.from({ length: n }, (_, i) => gql(url, SEND, { input: { roomId, content: `queued ${i}` } }, user.token));
}

/**
 * Holds the room's row lock from a connection of its own while `start`'s
 * requests reach the database and queue behind it (at least `queued` of them
 * waiting on a lock, or as many as the pool lets in), then runs `meanwhile`
 * (it commits while they wait: their statements began before it), then lets
 * them go; their answers. `meanwhile` gets a connection of its own: the
 * server's pool is busy with the waiting sends.
 */
async function whileRoomLocked(server: TestServer, roomId: string, queued: number, start: () => Promise<GraphQLResponse>[], meanwhile: (sql: pg.Client) => Promise<unknown>): Promise<GraphQLResponse[]> {
  return whileLocked(server, 'SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', roomId, queued, start, meanwhile);
}

/** As whileRoomLocked, with the row `lockSql` locks (its $1: `id`). */
async function whileLocked(
  server: TestServer,
  lockSql: string,
  id: string,
  queued: number,
  start: () => Promise<GraphQLResponse>[],
  meanwhile: (sql: pg.Client) => Promise<unknown>,
): Promise<GraphQLResponse[]> {
  const holder = new pg.Client({ connectionString: testDatabaseUrl() });
  // Its own connection: pg_stat_activity reads as of the reader's transaction's start.
  const watcher = new pg.Client({ connectionString: testDatabaseUrl() });
  await holder.connect();
  await watcher.connect();
  try {
    await holder.query('BEGIN');
    await holder.query(lockSql, [id]);
    const requests = start();
    const waiting = async () =>
      Number((await watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n);
    const expected = Math.min(queued, server.app.db.poolSize - 1);
    const deadline = Date.now() + 5000;
    while ((await waiting()) < expected && Date.now() < deadline) await sleep(20);
    expect(await waiting(), 'requests waiting on the lock').to.be.at.least(expected);
    await meanwhile(watcher);
    await holder.query('COMMIT');
    return await Promise.all(requests);
  } finally {
    await holder.end();
    await watcher.end();
  }
}

describe('moderation', () => {
  describe('who may mute, ban and set slow mode (the permission table)', () => {
    it('lets the OWNER mute anyone but themselves, an ADMIN only MEMBERs, a MEMBER nobody', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);

      expect(await code(url, MUTE, { r: roomId, u: owner.id }, owner)).to.equal('FORBIDDEN');
      expect(await code(url, MUTE, { r: roomId, u: admin.id }, admin)).to.equal('FORBIDDEN');
      expect(await code(url, MUTE, { r: roomId, u: owner.id }, admin)).to.equal('FORBIDDEN');
      expect(await code(url, MUTE, { r: roomId, u: admin.id }, member)).to.equal('FORBIDDEN');
      expect(await code(url, MUTE, { r: roomId, u: member.id }, member)).to.equal('FORBIDDEN');
      // Refusals changed nothing.
      for (const u of [owner, admin, member]) expect((await membership(url, owner, roomId, u))?.mutedUntil).to.equal(null);

      const byAdmin = (await ok(url, MUTE, { r: roomId, u: member.id }, admin.token)).muteMember;
      expect(byAdmin).to.include({ role: 'MEMBER', isActive: true });
      expect(Date.parse(byAdmin.mutedUntil)).to.be.greaterThan(Date.now());
      const byOwner = (await ok(url, MUTE, { r: roomId, u: admin.id }, owner.token)).muteMember;
      expect(byOwner.user.id).to.equal(admin.id);
      expect((await membership(url, member, roomId, admin))?.mutedUntil).to.equal(byOwner.mutedUntil);

      // Unmuting follows the same rows.
      expect(await code(url, UNMUTE, { r: roomId, u: member.id }, member)).to.equal('FORBIDDEN');
      expect((await ok(url, UNMUTE, { r: roomId, u: member.id }, admin.token)).unmuteMember.mutedUntil).to.equal(null);
      expect(await code(url, UNMUTE, { r: roomId, u: admin.id }, admin)).to.equal('FORBIDDEN');
      expect((await ok(url, UNMUTE, { r: roomId, u: admin.id }, owner.token)).unmuteMember.mutedUntil).to.equal(null);
    });

    it('bans with the roles of removal, never the OWNER; refuses non-members as a room that does not exist', async () => {
      const { url } = await startServer();
      const { owner, admin, member, stranger, outsider, roomId, companyId } = await staffedRoom(url);
      const other = await newUser(url, { companyId });
      await ok(url, ADD_MEMBERS, { r: roomId, u: [other.id] }, owner.token);

      expect(await code(url, BAN, { r: roomId, u: owner.id }, owner)).to.equal('FORBIDDEN');
      expect(await code(url, BAN, { r: roomId, u: owner.id }, admin)).to.equal('FORBIDDEN');
      expect(await code(url, BAN, { r: roomId, u: admin.id }, admin)).to.equal('FORBIDDEN');
      expect(await code(url, BAN, { r: roomId, u: other.id }, member)).to.equal('FORBIDDEN');
      const missing = await refused(url, BAN, { r: randomUUID(), u: member.id }, stranger);
      const hidden = await refused(url, BAN, { r: roomId, u: member.id }, stranger);
      expect(missing.extensions.code).to.equal('NOT_FOUND');
      expect({ code: hidden.extensions.code, message: hidden.message }).to.deep.equal({ code: missing.extensions.code, message: missing.message });
      expect(await code(url, BAN, { r: roomId, u: member.id }, outsider)).to.equal('NOT_FOUND');
      // Someone who was never in the room: nothing to ban.
      expect(await code(url, BAN, { r: roomId, u: stranger.id }, owner)).to.equal('NOT_FOUND');
      expect(await code(url, BAN, { r: roomId, u: 'nope' }, owner)).to.equal('BAD_USER_INPUT');

      expect((await ok(url, BAN, { r: roomId, u: member.id }, admin.token)).banMember).to.equal(true);
      expect((await ok(url, BAN, { r: roomId, u: member.id }, admin.token)).banMember, 'banned already').to.equal(false);
      expect((await ok(url, BAN, { r: roomId, u: admin.id }, owner.token)).banMember).to.equal(true);
      // The banned ADMIN is out: nothing they may do any more.
      expect(await code(url, BAN, { r: roomId, u: other.id }, admin)).to.equal('NOT_FOUND');
      expect(await code(url, UNBAN, { r: roomId, u: member.id }, member)).to.equal('NOT_FOUND');
      expect((await ok(url, UNBAN, { r: roomId, u: admin.id }, owner.token)).unbanMember).to.equal(true);
      expect((await ok(url, UNBAN, { r: roomId, u: admin.id }, owner.token)).unbanMember, 'not banned any more').to.equal(false);
    });

    it('is for GROUP rooms only: in a DIRECT room each is BAD_USER_INPUT', async () => {
      const { url } = await startServer();
      const a = await newUser(url);
      const b = await newUser(url);
      const roomId = await directRoom(url, a, b);
      expect(await code(url, MUTE, { r: roomId, u: b.id }, a)).to.equal('BAD_USER_INPUT');
      expect(await code(url, BAN, { r: roomId, u: b.id }, a)).to.equal('BAD_USER_INPUT');
      expect(await code(url, SLOW, { r: roomId, s: 10 }, a)).to.equal('BAD_USER_INPUT');
      await send(url, b, roomId, 'still talking');
    });

    it('lets the OWNER and ADMINs set slow mode 0-3600, not a MEMBER', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      expect(await code(url, SLOW, { r: roomId, s: 10 }, member)).to.equal('FORBIDDEN');
      expect(await code(url, SLOW, { r: roomId, s: -1 }, owner)).to.equal('BAD_USER_INPUT');
      expect(await code(url, SLOW, { r: roomId, s: 3601 }, owner)).to.equal('BAD_USER_INPUT');
      expect((await ok(url, MEMBERS, { id: roomId }, member.token)).room.slowModeSeconds).to.equal(0);
      expect((await ok(url, SLOW, { r: roomId, s: 3600 }, admin.token)).setSlowMode.slowModeSeconds).to.equal(3600);
      expect((await ok(url, SLOW, { r: roomId, s: 5 }, owner.token)).setSlowMode.slowModeSeconds).to.equal(5);
      expect((await ok(url, MEMBERS, { id: roomId }, member.token)).room.slowModeSeconds).to.equal(5);
    });

    it('refuses an `until` that is not in the future, or beyond year 9999, and changes nothing', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      for (const until of [new Date(Date.now() - 1000).toISOString(), '10000-01-01T00:00:00.000Z', 'tomorrow']) {
        expect(await code(url, MUTE, { r: roomId, u: member.id, until }, owner), until).to.equal('BAD_USER_INPUT');
      }
      expect((await membership(url, owner, roomId, member))?.mutedUntil).to.equal(null);
      // Without `until`: muted until unmuted.
      expect((await ok(url, MUTE, { r: roomId, u: member.id }, owner.token)).muteMember.mutedUntil).to.equal('9999-12-31T23:59:59.999Z');
    });

    it('rate limits every moderation mutation per user and room (MODERATION_RATE_LIMIT); the refused one changes nothing', async () => {
      const { url } = await startServer({ env: { MODERATION_RATE_LIMIT: '3/60' } });
      const { owner, member, roomId } = await staffedRoom(url);
      await ok(url, MUTE, { r: roomId, u: member.id }, owner.token);
      await ok(url, UNMUTE, { r: roomId, u: member.id }, owner.token);
      await ok(url, SLOW, { r: roomId, s: 5 }, owner.token);
      for (const [query, variables] of [
        [MUTE, { r: roomId, u: member.id }],
        [BAN, { r: roomId, u: member.id }],
        [UNBAN, { r: roomId, u: member.id }],
        [SLOW, { r: roomId, s: 0 }],
      ] as const) {
        const error = await refused(url, query, variables, owner);
        expect(error.extensions.code).to.equal('RATE_LIMITED');
        expect(error.extensions.retryAfter).to.be.within(1, 60);
      }
      const state = await membership(url, owner, roomId, member);
      expect(state).to.include({ isActive: true, mutedUntil: null });
      expect((await ok(url, MEMBERS, { id: roomId }, owner.token)).room.slowModeSeconds).to.equal(5);
    });
  });

  describe('a muted member', () => {
    it('cannot send, reply in a thread, react, edit, pin or type (FORBIDDEN with mutedUntil), but reads and marks read', async () => {
      const { url, app } = await startServer();
      const server = { url, app } as TestServer;
      const { owner, admin, member, roomId } = await staffedRoom(url);
      const root = await send(url, owner, roomId, 'a thread');
      const own = await send(url, member, roomId, 'mine');
      const adminsOwn = await send(url, admin, roomId, 'the admin speaks');
      await ok(url, ADD_REACTION, { id: root.id, r: ':+1:' }, member.token);
      const until = new Date(Date.now() + 3_600_000).toISOString();
      await ok(url, MUTE, { r: roomId, u: member.id, until }, owner.token);
      await ok(url, MUTE, { r: roomId, u: admin.id, until }, owner.token);

      const attempts: [string, string, Record<string, unknown>, TestUser][] = [
        ['send', SEND, { input: { roomId, content: 'let me talk' } }, member],
        ['reply', SEND, { input: { roomId, content: 'in the thread', parentId: root.id } }, member],
        ['reply also in room', SEND, { input: { roomId, content: 'both', parentId: root.id, alsoInRoom: true } }, member],
        ['react', ADD_REACTION, { id: root.id, r: ':-1:' }, member],
        ['unreact', REMOVE_REACTION, { id: root.id, r: ':+1:' }, member],
        ['edit', EDIT, { id: own.id, c: 'rewritten while muted' }, member],
        ['type', SET_TYPING, { r: roomId, t: true }, member],
        ['pin (a muted ADMIN)', PIN, { id: root.id }, admin],
        ['edit (a muted ADMIN)', EDIT, { id: adminsOwn.id, c: 'sneaky' }, admin],
      ];
      for (const [what, query, variables, who] of attempts) {
        const error = await refused(url, query, variables, who);
        expect(error.extensions, what).to.deep.include({ code: 'FORBIDDEN', mutedUntil: until });
      }

      // Nothing of it was stored.
      expect(await storedMessages(server, roomId, member)).to.equal(1);
      const { messages } = await ok(url, `query($r: ID!) { messages(roomId: $r, limit: 50) { id content reactions { reaction count } pinnedAt } }`, { r: roomId }, member.token);
      expect(messages.map((m: { content: string }) => m.content)).to.deep.equal(['the admin speaks', 'mine', 'a thread']);
      const rootNow = messages.find((m: { id: string }) => m.id === root.id);
      expect(rootNow.reactions).to.deep.equal([{ reaction: ':+1:', count: 1 }]);
      expect(rootNow.pinnedAt).to.equal(null);
      const thread = await ok(url, `query($p: ID!) { thread(parentId: $p) { id } }`, { p: root.id }, member.token);
      expect(thread.thread).to.deep.equal([]);
      // Reading and read state are unaffected; so is deleting one's own message.
      await ok(url, `mutation($r: ID!) { markRoomRead(roomId: $r) { lastReadAt } }`, { r: roomId }, member.token);
      await ok(url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: own.id }, member.token);

      await ok(url, UNMUTE, { r: roomId, u: member.id }, owner.token);
      await send(url, member, roomId, 'back');
      await ok(url, ADD_REACTION, { id: root.id, r: ':-1:' }, member.token);
    });

    it('speaks again once `until` has passed, without an unmute', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      const until = new Date(Date.now() + 1500).toISOString();
      await ok(url, MUTE, { r: roomId, u: member.id, until }, owner.token);
      expect(await code(url, SEND, { input: { roomId, content: 'too early' } }, member)).to.equal('FORBIDDEN');
      expect((await membership(url, owner, roomId, member))?.mutedUntil).to.equal(until);
      await sleep(Date.parse(until) - Date.now() + 100);
      expect((await membership(url, owner, roomId, member))?.mutedUntil, 'an ended mute reads as none').to.equal(null);
      await send(url, member, roomId, 'on time');
    });

    it('gets nothing new through a clientId retry: the message stored before the mute comes back unchanged, a new one is refused every time', async () => {
      const { url, app } = await startServer();
      const server = { url, app } as TestServer;
      const { owner, member, roomId } = await staffedRoom(url);
      const before = (await ok(url, SEND, { input: { roomId, content: 'before the mute', clientId: 'k-1' } }, member.token)).sendMessage;
      await ok(url, MUTE, { r: roomId, u: member.id }, owner.token);

      const retry = (await ok(url, SEND, { input: { roomId, content: 'before the mute', clientId: 'k-1' } }, member.token)).sendMessage;
      expect(retry).to.deep.equal(before);
      for (let i = 0; i < 3; i++) {
        expect(await code(url, SEND, { input: { roomId, content: 'after the mute', clientId: 'k-2' } }, member)).to.equal('FORBIDDEN');
      }
      // A retry with the old key and new words is still the old message: nothing new is said.
      expect((await ok(url, SEND, { input: { roomId, content: 'different words', clientId: 'k-1' } }, member.token)).sendMessage).to.deep.equal(before);
      expect(await storedMessages(server, roomId, member)).to.equal(1);
    });

    it('cannot be made the OWNER while muted (no one could lift the mute of an OWNER); unmuted, they can', async () => {
      const server = await startServer();
      const { owner, member, roomId } = await staffedRoom(server.url);
      const ROLE = `mutation($r: ID!, $u: ID!, $role: MemberRole!) { updateMemberRole(roomId: $r, userId: $u, role: $role) { role mutedUntil } }`;
      await ok(server.url, MUTE, { r: roomId, u: member.id }, owner.token);
      expect(await code(server.url, ROLE, { r: roomId, u: member.id, role: 'OWNER' }, owner)).to.equal('BAD_USER_INPUT');
      expect((await membership(server.url, owner, roomId, member))?.mutedUntil).to.equal('9999-12-31T23:59:59.999Z');
      // Made an ADMIN, still muted: the OWNER can lift it.
      expect((await ok(server.url, ROLE, { r: roomId, u: member.id, role: 'ADMIN' }, owner.token)).updateMemberRole.role).to.equal('ADMIN');
      await ok(server.url, UNMUTE, { r: roomId, u: member.id }, owner.token);
      expect((await ok(server.url, ROLE, { r: roomId, u: member.id, role: 'OWNER' }, owner.token)).updateMemberRole).to.deep.equal({ role: 'OWNER', mutedUntil: null });
    });

    it('stays muted after leaving and being added back (no laundering a mute through the door)', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      await ok(url, MUTE, { r: roomId, u: member.id }, owner.token);
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, member.token);
      await ok(url, ADD, { r: roomId, u: [member.id] }, owner.token);
      expect((await refused(url, SEND, { input: { roomId, content: 'fresh start?' } }, member)).extensions.code).to.equal('FORBIDDEN');
    });

    it('stops the very next send once the mute commits: sends that began before it and reach the room after it are all refused', async () => {
      // Each send alone, so all 20 of one sender are in flight at once (batched, a room has one statement at a time: send-batching.test.ts).
      const { url, app } = await startServer({ env: { MESSAGE_RATE_LIMIT: '1000/10', SEND_BATCH_CONCURRENCY: '0' } });
      const server = { url, app } as TestServer;
      const { member, roomId } = await staffedRoom(url);
      const answers = await whileRoomLocked(server, roomId, 20, () => sendAll(url, member, roomId, 20), (sql) =>
        sql.query(`UPDATE room_members SET muted_until = now() + interval '1 hour' WHERE room_id = $1 AND user_id = $2`, [roomId, member.id]),
      );
      expect(answers.map((a) => a.errors?.[0].extensions.code ?? 'stored')).to.deep.equal(Array(20).fill('FORBIDDEN'));
      expect(await storedMessages(server, roomId, member)).to.equal(0);
    });

    it('stops reactions and edits in flight when the mute commits: those waiting on the message are refused', async () => {
      const { url, app } = await startServer({ env: { REACTION_RATE_LIMIT: '1000/10', EDIT_RATE_LIMIT: '1000/10' } });
      const server = { url, app } as TestServer;
      const { owner, member, roomId } = await staffedRoom(url);
      const own = await send(url, member, roomId, 'mine');
      const reactions = ['👍', '🎉', '❤️', ':a:', ':b:', ':c:', ':d:', ':e:'];
      const answers = await whileLocked(
        server,
        'SELECT 1 FROM messages WHERE id = $1 FOR UPDATE',
        own.id,
        reactions.length + 2,
        () => [
          ...reactions.map((r) => gql(url, ADD_REACTION, { id: own.id, r }, member.token)),
          gql(url, EDIT, { id: own.id, c: 'edited in flight' }, member.token),
          gql(url, EDIT, { id: own.id, c: 'edited in flight again' }, member.token),
        ],
        (sql) => sql.query(`UPDATE room_members SET muted_until = now() + interval '1 hour' WHERE room_id = $1 AND user_id = $2`, [roomId, member.id]),
      );
      expect(answers.map((a) => a.errors?.[0].extensions.code ?? 'done')).to.deep.equal(Array(reactions.length + 2).fill('FORBIDDEN'));
      const { message } = await ok(url, `query($id: ID!) { message(id: $id) { content reactions { reaction } } }`, { id: own.id }, owner.token);
      expect(message).to.deep.equal({ content: 'mine', reactions: [] });
    });
  });

  describe('a banned user', () => {
    it('is removed and kept out: addMembers skips them (by OWNER or ADMIN) until unbanned', async () => {
      const { url } = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(url);
      await ok(url, BAN, { r: roomId, u: member.id }, owner.token);
      expect(await membership(url, owner, roomId, member)).to.include({ isActive: false });
      expect(await code(url, `query($id: ID!) { room(id: $id) { id } }`, { id: roomId }, member)).to.equal('NOT_FOUND');
      expect(await code(url, SEND, { input: { roomId, content: 'let me in' } }, member)).to.equal('NOT_FOUND');

      expect((await ok(url, ADD, { r: roomId, u: [member.id] }, owner.token)).addMembers, 'reported as not added').to.deep.equal([]);
      expect((await ok(url, ADD, { r: roomId, u: [member.id] }, admin.token)).addMembers).to.deep.equal([]);
      expect(await membership(url, owner, roomId, member)).to.include({ isActive: false });

      expect((await ok(url, UNBAN, { r: roomId, u: member.id }, admin.token)).unbanMember).to.equal(true);
      // Unbanning does not add them back; adding does.
      expect(await code(url, `query($id: ID!) { room(id: $id) { id } }`, { id: roomId }, member)).to.equal('NOT_FOUND');
      expect((await ok(url, ADD, { r: roomId, u: [member.id] }, owner.token)).addMembers.map((m: { user: { id: string } }) => m.user.id)).to.deep.equal([member.id]);
      await send(url, member, roomId, 'back again');
    });

    it('is banned whatever an addMembers racing the ban does: the two take turns on the room', async () => {
      const server = await startServer({ env: { MEMBER_RATE_LIMIT: '1000/60', MODERATION_RATE_LIMIT: '1000/60' } });
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      for (let trial = 0; trial < 12; trial++) {
        await ok(server.url, REMOVE_MEMBER, { r: roomId, u: member.id }, member.token);
        const [ban, add] = await Promise.all([gql(server.url, BAN, { r: roomId, u: member.id }, owner.token), gql(server.url, ADD_MEMBERS, { r: roomId, u: [member.id] }, admin.token)]);
        expect(ban.errors, `trial ${trial}: the ban`).to.equal(undefined);
        expect(ban.data?.banMember, `trial ${trial}`).to.equal(true);
        expect(add.errors, `trial ${trial}: the add`).to.equal(undefined);
        expect((await membership(server.url, owner, roomId, member))?.isActive, `trial ${trial}: kept out`).to.equal(false);
        await ok(server.url, UNBAN, { r: roomId, u: member.id }, owner.token);
        await ok(server.url, ADD_MEMBERS, { r: roomId, u: [member.id] }, owner.token);
      }
    });

    it('can be a former member: one who left is kept out the same', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      await ok(url, REMOVE_MEMBER, { r: roomId, u: member.id }, member.token);
      expect((await ok(url, BAN, { r: roomId, u: member.id }, owner.token)).banMember).to.equal(true);
      expect((await ok(url, ADD, { r: roomId, u: [member.id] }, owner.token)).addMembers).to.deep.equal([]);
    });

    it('cannot be made active by any path: the database refuses it', async () => {
      const { url, app } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      await ok(url, BAN, { r: roomId, u: member.id }, owner.token);
      let failure: unknown = null;
      await app.db.query(`UPDATE room_members SET is_active = true WHERE room_id = $1 AND user_id = $2`, [roomId, member.id]).catch((e) => (failure = e));
      expect(String((failure as Error | null)?.message)).to.match(/room_members_banned_inactive/);
    });

    it('stops the very next send once the ban commits: sends that began before it and reach the room after it are all refused', async () => {
      // Each send alone, so all 20 of one sender are in flight at once (batched, a room has one statement at a time: send-batching.test.ts).
      const { url, app } = await startServer({ env: { MESSAGE_RATE_LIMIT: '1000/10', SEND_BATCH_CONCURRENCY: '0' } });
      const server = { url, app } as TestServer;
      const { member, roomId } = await staffedRoom(url);
      const answers = await whileRoomLocked(server, roomId, 20, () => sendAll(url, member, roomId, 20), (sql) =>
        sql.query(`UPDATE room_members SET is_active = false, removed_at = now(), banned_at = now() WHERE room_id = $1 AND user_id = $2`, [roomId, member.id]),
      );
      expect(answers.map((a) => a.errors?.[0].extensions.code ?? 'stored')).to.deep.equal(Array(20).fill('NOT_FOUND'));
      expect(await storedMessages(server, roomId, member)).to.equal(0);
    });

    it('stops the very next send once the ban commits: of 50 parallel sends racing it, none is stored after it', async () => {
      const { url, app } = await startServer({ env: { MESSAGE_RATE_LIMIT: '1000/10' } });
      const server = { url, app } as TestServer;
      for (let round = 0; round < 3; round++) {
        const { owner, member, roomId } = await staffedRoom(url);
        const sends = Array.from({ length: 50 }, (_, i) => gql(url, SEND, { input: { roomId, content: `race ${i}` } }, member.token));
        await sleep(5 + round * 10);
        await ok(url, BAN, { r: roomId, u: member.id }, owner.token);
        const answers = await Promise.all(sends);
        const accepted = answers.filter((a) => !a.errors);
        expect(answers.filter((a) => a.errors).map((a) => a.errors![0].extensions.code)).to.satisfy((codes: string[]) => codes.every((c) => c === 'NOT_FOUND'));
        expect(await storedMessages(server, roomId, member), 'exactly the accepted sends are stored').to.equal(accepted.length);
        // Every stored message was written before the ban (its time, under the room's lock), and has a lower seq than anything after it.
        const [row] = await app.db.query<{ after: number; banned_at: string }>(
          `SELECT (SELECT count(*)::int FROM messages m WHERE m.room_id = rm.room_id AND m.sender_id = rm.user_id AND m.created_at >= rm.banned_at) AS after, rm.banned_at
           FROM room_members rm WHERE rm.room_id = $1 AND rm.user_id = $2`,
          [roomId, member.id],
        );
        expect(row.banned_at).to.be.a('string');
        expect(row.after, 'messages stored after the ban').to.equal(0);
        const next = await send(url, owner, roomId, 'after the ban');
        expect(Math.max(0, ...accepted.map((a) => a.data!.sendMessage.seq))).to.be.below(next.seq);
      }
    });

    it('no longer sees the room: a `since` replay after the ban shows nothing of what came after it', async () => {
      const { url, app } = await startServer();
      const server = { url, app, wsUrl: url.replace(/^http/, 'ws') } as TestServer;
      const { owner, member, roomId } = await staffedRoom(url);
      const before = await send(url, owner, roomId, 'before the ban');
      const { cursor } = (await ok(url, CHANGES, { since: null }, member.token)).changes;
      const version = (await ok(url, `query($id: ID!) { message(id: $id) { version } }`, { id: before.id }, member.token)).message.version;
      await ok(url, BAN, { r: roomId, u: member.id }, owner.token);
      const after = await send(url, owner, roomId, 'after the ban');
      await ok(url, EDIT, { id: before.id, c: 'edited after the ban' }, owner.token);

      const feed = (await ok(url, CHANGES, { since: cursor }, member.token)).changes;
      expect(feed.messages.map((m: { id: string }) => m.id)).to.not.include(after.id);
      expect(feed.messages.map((m: { content: string }) => m.content)).to.not.include('edited after the ban');
      expect(feed.memberships.map((m: { isActive: boolean; room: { id: string } }) => [m.room.id, m.isActive])).to.deep.equal([[roomId, false]]);

      // Room-scoped replays are refused as for a room that does not exist.
      const client = wsClient(server, member.token);
      const updated = collect(client, `subscription($r: ID, $s: String) { messageUpdated(roomId: $r, since: $s) { id content } }`, { r: roomId, s: version });
      const added = collect(client, `subscription($r: ID, $s: ID) { messageAdded(roomId: $r, since: $s) { id content } }`, { r: roomId, s: before.id });
      await waitFor(() => updated.errors.length > 0 && added.errors.length > 0, 5000, 'both refusals');
      expect([updated.errors[0].code, added.errors[0].code]).to.deep.equal(['NOT_FOUND', 'NOT_FOUND']);
      // The all-rooms replay from before the ban: nothing of the room after it.
      const elsewhere = await groupRoom(url, owner, [member], 'Elsewhere');
      const probe = await send(url, owner, elsewhere, 'probe');
      const everywhere = collect(client, `subscription($s: String) { messageUpdated(since: $s) { id content } }`, { s: cursor });
      let edits = 0;
      await ready(
        [everywhere],
        async () => {
          await ok(url, EDIT, { id: probe.id, c: `probe ${++edits}` }, owner.token);
          return probe;
        },
        (d: any, id) => d.messageUpdated.id === id && d.messageUpdated.content !== 'probe',
      );
      expect(everywhere.data.map((d: any) => d.messageUpdated.id)).to.not.include(after.id);
      expect(everywhere.data.map((d: any) => d.messageUpdated.content)).to.not.include('edited after the ban');
      expect(updated.data).to.deep.equal([]);
      expect(added.data).to.deep.equal([]);
    });
  });

  describe('events and the changes feed', () => {
    it('announces MUTED, UNMUTED, REMOVED then BANNED, and UNBANNED to the room and to the user, each a new membership version', async () => {
      const { url, app } = await startServer();
      const server = { url, app, wsUrl: url.replace(/^http/, 'ws') } as TestServer;
      const { owner, member, roomId, companyId } = await staffedRoom(url);
      const query = `subscription { membershipChanged { kind room { id } member { mutedUntil isActive user { id } } } }`;
      const watching = collect(wsClient(server, owner.token), query);
      const target = collect(wsClient(server, member.token), query);
      // Ready once both have heard a newcomer arrive.
      await ready(
        [watching, target],
        async () => {
          const newcomer = await newUser(url, { companyId });
          await ok(url, ADD_MEMBERS, { r: roomId, u: [newcomer.id] }, owner.token);
          return { id: newcomer.id };
        },
        (d: any, id) => d.membershipChanged.member.user.id === id,
      );

      let cursor = (await ok(url, CHANGES, { since: null }, member.token)).changes.cursor;
      const feedSince = async () => {
        const feed = (await ok(url, CHANGES, { since: cursor }, member.token)).changes;
        cursor = feed.cursor;
        return feed.memberships as { isActive: boolean; mutedUntil: string | null; room: { id: string } }[];
      };

      await ok(url, MUTE, { r: roomId, u: member.id }, owner.token);
      expect((await feedSince()).map((m) => [m.room.id, m.mutedUntil])).to.deep.equal([[roomId, '9999-12-31T23:59:59.999Z']]);
      await ok(url, UNMUTE, { r: roomId, u: member.id }, owner.token);
      expect((await feedSince()).map((m) => [m.room.id, m.mutedUntil])).to.deep.equal([[roomId, null]]);
      await ok(url, BAN, { r: roomId, u: member.id }, owner.token);
      expect((await feedSince()).map((m) => [m.room.id, m.isActive])).to.deep.equal([[roomId, false]]);
      await ok(url, UNBAN, { r: roomId, u: member.id }, owner.token);
      expect((await feedSince()).map((m) => [m.room.id, m.isActive])).to.deep.equal([[roomId, false]]);
      // A call that changes nothing is no change.
      await ok(url, UNBAN, { r: roomId, u: member.id }, owner.token);
      expect(await feedSince()).to.deep.equal([]);

      const kinds = (sub: typeof watching) => sub.data.filter((d: any) => d.membershipChanged.member.user.id === member.id).map((d: any) => d.membershipChanged.kind);
      const expected = ['MUTED', 'UNMUTED', 'REMOVED', 'BANNED', 'UNBANNED'];
      await waitFor(() => kinds(watching).length >= expected.length && kinds(target).length >= expected.length, 5000, 'the events');
      expect(kinds(watching), 'the room').to.deep.equal(expected);
      expect(kinds(target), 'the user').to.deep.equal(expected);
      // The banned user's own events show the room from outside.
      const own = target.data.filter((d: any) => d.membershipChanged.member.user.id === member.id);
      expect(own.map((d: any) => d.membershipChanged.room.id)).to.deep.equal(Array(expected.length).fill(roomId));
    });

    it('takes an unmute of a mute that has run out for what it is: nothing changes, no event, no new version', async () => {
      const server = await startServer();
      const { owner, member, roomId } = await staffedRoom(server.url);
      await ok(server.url, MUTE, { r: roomId, u: member.id, until: new Date(Date.now() + 1500).toISOString() }, owner.token);
      await sleep(1700);
      expect((await membership(server.url, owner, roomId, member))?.mutedUntil, 'reads as not muted').to.equal(null);
      const cursor = (await ok(server.url, CHANGES, { since: null }, member.token)).changes.cursor;
      const events = collect(wsClient(server, owner.token), `subscription { membershipChanged { kind member { user { id } } } }`);
      await sleep(300);
      await ok(server.url, UNMUTE, { r: roomId, u: member.id }, owner.token);
      await sleep(500);
      expect(events.data.map((d) => d.membershipChanged.kind)).to.deep.equal([]);
      expect((await ok(server.url, CHANGES, { since: cursor }, member.token)).changes.memberships).to.deep.equal([]);
    });

    it('publishes nothing more of a member banned or muted while typing or reading: their held-back typing and read receipt stay unsent', async () => {
      const server = await startServer();
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      const typing = collect(wsClient(server, owner.token), `subscription($r: ID!) { typing(roomId: $r) { isTyping user { id } } }`, { r: roomId });
      const receipts = collect(wsClient(server, owner.token), `subscription($r: ID!) { readReceipt(roomId: $r) { user { id } } }`, { r: roomId });
      await sleep(300);
      const msg = (await ok(server.url, SEND, { input: { roomId, content: 'read me' } }, owner.token)).sendMessage;
      const later = (await ok(server.url, SEND, { input: { roomId, content: 'and me' } }, owner.token)).sendMessage;
      // The first of each goes at once; the second is held to the end of its second.
      for (const who of [member, admin]) {
        await ok(server.url, SET_TYPING, { r: roomId, t: true }, who.token);
        await ok(server.url, SET_TYPING, { r: roomId, t: false }, who.token);
        await ok(server.url, SET_TYPING, { r: roomId, t: true }, who.token);
      }
      const READ = `mutation($r: ID!, $at: DateTime) { markRoomRead(roomId: $r, at: $at) { lastReadAt } }`;
      await ok(server.url, READ, { r: roomId, at: msg.createdAt }, member.token);
      await ok(server.url, READ, { r: roomId, at: later.createdAt }, member.token);
      await ok(server.url, BAN, { r: roomId, u: member.id }, owner.token);
      await ok(server.url, MUTE, { r: roomId, u: admin.id }, owner.token);
      await sleep(1500);
      const of = (who: TestUser) => typing.data.filter((d) => d.typing.user.id === who.id).map((d) => d.typing.isTyping);
      expect(of(member), 'the banned member').to.deep.equal([true]);
      expect(of(admin), 'the muted admin').to.deep.equal([true]);
      expect(receipts.data.filter((d) => d.readReceipt.user.id === member.id), 'the banned reader').to.have.length(1);
      // A muted member may still say they stopped typing.
      await ok(server.url, SET_TYPING, { r: roomId, t: false }, admin.token);
      await waitFor(() => of(admin).length === 2, 3000, 'the stop');
      expect(of(admin)).to.deep.equal([true, false]);
    });
  });

  describe('slow mode', () => {
    it('admits exactly one of 20 parallel sends of a MEMBER per window; the rest are RATE_LIMITED with retryAfter', async () => {
      const { url, app } = await startServer({ env: { MESSAGE_RATE_LIMIT: '1000/10' } });
      const server = { url, app } as TestServer;
      const { owner, member, roomId } = await staffedRoom(url);
      await ok(url, SLOW, { r: roomId, s: 60 }, owner.token);
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => gql(url, SEND, { input: { roomId, content: `slow ${i}` } }, member.token)));
      expect(answers.filter((a) => !a.errors)).to.have.length(1);
      for (const a of answers.filter((x) => x.errors)) {
        expect(a.errors![0].extensions.code).to.equal('RATE_LIMITED');
        expect(a.errors![0].extensions.retryAfter).to.be.within(1, 60);
        expect(a.status).to.equal(429);
      }
      expect(await storedMessages(server, roomId, member)).to.equal(1);
    });

    it('does not slow the OWNER or ADMINs, stops when set to 0, and a refusal by slow mode takes no MESSAGE_RATE_LIMIT slot', async () => {
      const { url } = await startServer({ env: { MESSAGE_RATE_LIMIT: '2/60' } });
      const { owner, admin, member, roomId, companyId } = await staffedRoom(url);
      await ok(url, SLOW, { r: roomId, s: 1 }, owner.token);
      await send(url, owner, roomId, 'one');
      await send(url, owner, roomId, 'two');
      await send(url, admin, roomId, 'one');
      await send(url, admin, roomId, 'two');

      await send(url, member, roomId, 'first');
      for (let i = 0; i < 5; i++) expect(await code(url, SEND, { input: { roomId, content: 'too soon' } }, member)).to.equal('RATE_LIMITED');
      await sleep(1100);
      // The five refusals took no slot of the 2 per 60 s: the second message goes through.
      await send(url, member, roomId, 'second');
      await sleep(1100);
      const limited = await refused(url, SEND, { input: { roomId, content: 'third' } }, member);
      expect(limited.message, 'now the rate limit speaks').to.not.match(/slow mode/i);

      await ok(url, SLOW, { r: roomId, s: 0 }, owner.token);
      const other = await newUser(url, { companyId });
      await ok(url, ADD, { r: roomId, u: [other.id] }, owner.token);
      await send(url, other, roomId, 'a');
      await send(url, other, roomId, 'b');
    });

    it('holds for thread replies too', async () => {
      const { url } = await startServer();
      const { owner, member, roomId } = await staffedRoom(url);
      const root = await send(url, owner, roomId, 'root');
      await ok(url, SLOW, { r: roomId, s: 30 }, owner.token);
      await send(url, member, roomId, 'in the room');
      expect(await code(url, SEND, { input: { roomId, content: 'reply', parentId: root.id } }, member)).to.equal('RATE_LIMITED');
    });
  });

  it('keeps the lock order: sends racing role changes, slow mode and moderation of their sender end without a deadlock', async () => {
    const { url } = await startServer({ env: { MESSAGE_RATE_LIMIT: '1000/10', ROLE_RATE_LIMIT: '1000/10', MODERATION_RATE_LIMIT: '1000/10' } });
    const { owner, admin, member, roomId } = await staffedRoom(url);
    const work: Promise<GraphQLResponse>[] = [];
    for (let i = 0; i < 20; i++) {
      work.push(gql(url, SEND, { input: { roomId, content: `m ${i}` } }, member.token));
      work.push(gql(url, SEND, { input: { roomId, content: `a ${i}` } }, admin.token));
      work.push(gql(url, `mutation($r: ID!, $u: ID!, $role: MemberRole!) { updateMemberRole(roomId: $r, userId: $u, role: $role) { id } }`, { r: roomId, u: member.id, role: i % 2 ? 'ADMIN' : 'MEMBER' }, owner.token));
      work.push(gql(url, i % 2 ? UNMUTE : MUTE, { r: roomId, u: admin.id, until: new Date(Date.now() + 60_000).toISOString() }, owner.token));
      // The same MODERATION rate-limit row as the mute, and the room's row: both in the one order.
      work.push(gql(url, SLOW, { r: roomId, s: 0 }, owner.token));
    }
    const answers = await Promise.all(work);
    const codes = answers.flatMap((a) => (a.errors ?? []).map((e) => e.extensions.code));
    expect(codes.filter((c) => c !== 'FORBIDDEN'), JSON.stringify(answers.filter((a) => a.errors).slice(0, 3))).to.deep.equal([]);
  });
});
