import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { parse } from 'graphql';
import { signToken } from '../src/auth/token';
import { queryCost } from '../src/graphql/protection';
import { buildChatSchema } from '../src/graphql/schema';
import { errorCode, gql, makeUser, ok, signIn, type TestUser } from './support/client';
import { groupRoom, send, staffedRoom } from './support/factories';
import { startServer, TEST_JWT_SECRET, wsClient, type TestServer } from './support/server';
import { collect, connects, handshake, nextMessage, rawSocket, ready, refusal, sleep, waitFor, type Collected } from './support/ws';

/*
 * Issue 9: holes found by probing the running server as an attacker with a
 * valid login. Each test failed on the code before its fix.
 */

const ADD_MEMBERS = `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id user { id } } }`;
const CREATE_GROUP = `mutation($name: String!, $ids: [ID!]!) { createGroupChat(input: { name: $name, memberIds: $ids }) { id } }`;
const HISTORY = `query($r: ID!) { messages(roomId: $r) { id content } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content room { id name memberCount } } }`;
const EDIT = `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id content } }`;
const MESSAGE_ADDED = `subscription($roomId: ID) { messageAdded(roomId: $roomId) { id content } }`;

/** The same user with a token naming another company (or none). */
const asCompany = (user: TestUser, companyId: string | null): Promise<string> =>
  signToken(TEST_JWT_SECRET, { userId: user.id, name: user.name, ...(companyId !== null && { companyId }), expiresIn: '1h' });

async function count(server: TestServer, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await server.app.db.query<{ n: number }>(sql, params);
  return row.n;
}

describe('hardening: what a user with a valid login must not be able to do', () => {
  describe('1. company scope follows the room, not the token', () => {
    it("an owner whose token now names another company cannot bring that company's users in, and they read nothing", async () => {
      const server = await startServer();
      const { owner, roomId } = await staffedRoom(server.url);
      await send(server.url, owner, roomId, 'company secret');
      const elsewhere = randomUUID();
      const stranger = await signIn(server.url, await makeUser({ companyId: elsewhere, name: 'Elsewhere' }));
      const ownerElsewhere = await asCompany(owner, elsewhere);

      expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [stranger.id] }, ownerElsewhere)).to.equal('NOT_FOUND');
      expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [stranger.id] }, owner.token)).to.equal('FORBIDDEN');
      expect(await errorCode(server.url, HISTORY, { r: roomId }, stranger.token)).to.equal('NOT_FOUND');
      expect(await count(server, `SELECT count(*)::int AS n FROM room_members WHERE room_id = $1 AND user_id = $2`, [roomId, stranger.id])).to.equal(0);
    });

    it("a user whose token names another company stops seeing the old company's rooms; the old company's token sees them again", async () => {
      const server = await startServer();
      const { owner, member, roomId } = await staffedRoom(server.url);
      const moved = await asCompany(member, randomUUID());
      await send(server.url, owner, roomId, 'before the move');

      expect(await errorCode(server.url, `query($id: ID!) { room(id: $id) { id } }`, { id: roomId }, moved)).to.equal('NOT_FOUND');
      expect(await errorCode(server.url, HISTORY, { r: roomId }, moved)).to.equal('NOT_FOUND');
      expect(await errorCode(server.url, SEND, { input: { roomId, content: 'from the new company' } }, moved)).to.equal('NOT_FOUND');
      const inbox = await ok(server.url, `{ rooms { total items { id } } }`, {}, moved);
      expect(inbox.rooms.items.map((r: { id: string }) => r.id)).not.to.include(roomId);

      const live = collect(wsClient(server, moved), MESSAGE_ADDED, { roomId });
      expect(await refusal(live)).to.deep.equal(['NOT_FOUND']);
      // A room of the new company fences the stream: it must be live, and everything sent before the last probe has arrived.
      const movedUser = { ...member, token: moved };
      const ownRoom = await groupRoom(server.url, movedUser, [], 'the new company');
      const everywhere = collect(wsClient(server, moved), MESSAGE_ADDED, {});
      await ready([everywhere], () => send(server.url, movedUser, ownRoom, 'probe'));
      await send(server.url, owner, roomId, 'after the move');
      await ready([everywhere], () => send(server.url, movedUser, ownRoom, 'fence'));
      expect(everywhere.errors).to.deep.equal([]);
      expect(everywhere.data.map((d) => d.messageAdded.content), 'no event of the old company reaches the new token').not.to.include('after the move');

      // Memberships are kept: a token naming the old company again reads the room.
      const back = await asCompany(member, owner.companyId);
      const { messages } = await ok(server.url, HISTORY, { r: roomId }, back);
      expect(messages.map((m: { content: string }) => m.content)).to.deep.equal(['after the move', 'before the move']);
    });

    it('keeps companies apart from both sides: with and without a company, while users never seen may be named by anyone', async () => {
      const server = await startServer();
      const withCompany = await signIn(server.url, await makeUser({ name: 'Has company' }));
      const without = await signIn(server.url, await makeUser({ companyId: null, name: 'No company' }));
      const neverSeen = randomUUID();

      expect(await errorCode(server.url, CREATE_GROUP, { name: 'x', ids: [withCompany.id] }, without.token)).to.equal('FORBIDDEN');
      expect(await errorCode(server.url, CREATE_GROUP, { name: 'x', ids: [without.id] }, withCompany.token)).to.equal('FORBIDDEN');
      expect(await errorCode(server.url, `mutation($u: ID!) { createDirectChat(userId: $u) { id } }`, { u: without.id }, withCompany.token)).to.equal(
        'FORBIDDEN',
      );
      const theirs = await groupRoom(server.url, without, [], 'company-less');
      expect(await errorCode(server.url, ADD_MEMBERS, { r: theirs, u: [withCompany.id] }, without.token)).to.equal('FORBIDDEN');
      await ok(server.url, CREATE_GROUP, { name: 'a', ids: [neverSeen] }, withCompany.token);
      await ok(server.url, CREATE_GROUP, { name: 'b', ids: [randomUUID()] }, without.token);
    });
  });

  describe('2. the work one user can make an event cost is bounded', () => {
    const PER_VIEWER = `subscription($r: ID) { messageUpdated(roomId: $r) { id content room { unreadCount myMembership { role } } reactions { reactedByMe } } }`;

    it('250 identical per-viewer subscriptions of one user (5 sockets x 50) cost one execution per event', async () => {
      const server = await startServer({ env: { EDIT_RATE_LIMIT: '1000/10' } });
      const owner = await signIn(server.url, await makeUser());
      const attacker = await signIn(server.url, await makeUser());
      const roomId = await groupRoom(server.url, owner, [attacker]);
      const message = await send(server.url, owner, roomId, 'edit me');
      const subs: Collected[] = [];
      for (let s = 0; s < 5; s++) {
        const client = wsClient(server, attacker.token);
        for (let i = 0; i < 50; i++) subs.push(collect(client, PER_VIEWER, { r: roomId }));
      }
      let edits = 0;
      await ready(subs, async () => (await ok(server.url, EDIT, { id: message.id, c: `warm ${++edits}` }, owner.token)).editMessage, (d: any, id) => d.messageUpdated.id === id);
      await sleep(200);
      const before = server.app.stats.subscriptionExecutions;
      await ok(server.url, EDIT, { id: message.id, c: 'counted' }, owner.token);
      await waitFor(() => subs.every((s) => s.data.some((d) => d.messageUpdated.content === 'counted')), 5000, 'every subscription to get the edit');
      expect(subs.every((s) => s.errors.length === 0)).to.equal(true);
      expect(server.app.stats.subscriptionExecutions - before).to.equal(1);
    });

    it("refuses a user's distinct subscriptions beyond the budget, alone: earlier ones and other users keep theirs", async () => {
      const server = await startServer({ limits: { maxSubscriptionCostPerUser: 60 }, env: { EDIT_RATE_LIMIT: '1000/10' } });
      const owner = await signIn(server.url, await makeUser());
      const attacker = await signIn(server.url, await makeUser());
      const bystander = await signIn(server.url, await makeUser());
      const roomId = await groupRoom(server.url, owner, [attacker, bystander]);
      const message = await send(server.url, owner, roomId, 'edit me');
      const client = wsClient(server, attacker.token);
      // Each alias makes a distinct document, so nothing is shared: each costs its own execution.
      const variant = (i: number) => `subscription($r: ID) { messageUpdated(roomId: $r) { v${i}: id room { unreadCount } } }`;
      const subs = Array.from({ length: 30 }, (_, i) => collect(client, variant(i), { r: roomId }));
      await waitFor(() => subs.filter((s) => s.errors.length > 0).length > 0, 5000, 'a refusal');
      await sleep(300);
      const refused = subs.filter((s) => s.errors.length > 0);
      const accepted = subs.filter((s) => s.errors.length === 0);
      expect(refused.flatMap((s) => s.errors.map((e) => e.code))).to.satisfy((codes: string[]) => codes.every((c) => c === 'BAD_USER_INPUT'));
      // Each variant costs the same; the budget holds as many as fit, not one more.
      const cost = queryCost(buildChatSchema(), parse(variant(0)), { r: roomId }, undefined) as number;
      expect(accepted.length).to.equal(Math.floor(60 / cost));
      const other = collect(wsClient(server, bystander.token), variant(99), { r: roomId });

      await sleep(300);
      const before = server.app.stats.subscriptionExecutions;
      await ok(server.url, EDIT, { id: message.id, c: 'after' }, owner.token);
      await waitFor(() => accepted.every((s) => s.data.length > 0) && other.data.length > 0, 5000, 'the edit to reach every accepted subscription');
      expect(other.errors).to.deep.equal([]);
      expect(server.app.stats.subscriptionExecutions - before, 'executions are bounded by what was accepted').to.equal(accepted.length + 1);
    });
  });

  describe('3. every write a client can repeat has a limit', () => {
    it('editMessage: EDIT_RATE_LIMIT per user and room, RATE_LIMITED with retryAfter, the refused edit stores nothing', async () => {
      const server = await startServer({ env: { EDIT_RATE_LIMIT: '3/60' } });
      const { member, roomId } = await staffedRoom(server.url);
      const message = await send(server.url, member, roomId, 'v0');
      for (let i = 1; i <= 3; i++) await ok(server.url, EDIT, { id: message.id, c: `v${i}` }, member.token);
      const refused = await gql(server.url, EDIT, { id: message.id, c: 'v4' }, member.token);
      expect(refused.errors?.[0].extensions).to.deep.include({ code: 'RATE_LIMITED' });
      expect(refused.errors?.[0].extensions.retryAfter).to.be.within(1, 60);
      expect(refused.status).to.equal(429);
      const [row] = await server.app.db.query<{ content: string }>(`SELECT content FROM messages WHERE id = $1`, [message.id]);
      expect(row.content).to.equal('v3');
    });

    it('createGroupChat: ROOM_RATE_LIMIT per user; the refused call stores nothing', async () => {
      const server = await startServer({ env: { ROOM_RATE_LIMIT: '2/60' } });
      const user = await signIn(server.url, await makeUser());
      await ok(server.url, CREATE_GROUP, { name: 'one', ids: [] }, user.token);
      await ok(server.url, CREATE_GROUP, { name: 'two', ids: [] }, user.token);
      const fresh = randomUUID();
      expect(await errorCode(server.url, CREATE_GROUP, { name: 'three', ids: [fresh] }, user.token)).to.equal('RATE_LIMITED');
      expect(await count(server, `SELECT count(*)::int AS n FROM rooms WHERE created_by = $1`, [user.id])).to.equal(2);
      expect(await count(server, `SELECT count(*)::int AS n FROM users WHERE id = $1`, [fresh])).to.equal(0);
    });

    it('createDirectChat: creating counts against ROOM_RATE_LIMIT, opening an existing one does not', async () => {
      const server = await startServer({ env: { ROOM_RATE_LIMIT: '2/60' } });
      const user = await signIn(server.url, await makeUser());
      const [a, b, c] = await Promise.all([1, 2, 3].map(async () => signIn(server.url, await makeUser())));
      const DIRECT = `mutation($u: ID!) { createDirectChat(userId: $u) { id } }`;
      const first = (await ok(server.url, DIRECT, { u: a.id }, user.token)).createDirectChat.id;
      for (let i = 0; i < 5; i++) expect((await ok(server.url, DIRECT, { u: a.id }, user.token)).createDirectChat.id).to.equal(first);
      await ok(server.url, DIRECT, { u: b.id }, user.token);
      expect(await errorCode(server.url, DIRECT, { u: c.id }, user.token)).to.equal('RATE_LIMITED');
      expect(await count(server, `SELECT count(*)::int AS n FROM rooms WHERE created_by = $1`, [user.id])).to.equal(2);
    });

    it('addMembers: MEMBER_RATE_LIMIT per user and room; the refused call adds no one', async () => {
      const server = await startServer({ env: { MEMBER_RATE_LIMIT: '2/60' } });
      const { owner, roomId, companyId } = await staffedRoom(server.url);
      const people = await Promise.all([1, 2, 3].map(async () => signIn(server.url, await makeUser({ companyId }))));
      await ok(server.url, ADD_MEMBERS, { r: roomId, u: [people[0].id] }, owner.token);
      await ok(server.url, ADD_MEMBERS, { r: roomId, u: [people[1].id] }, owner.token);
      expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [people[2].id] }, owner.token)).to.equal('RATE_LIMITED');
      expect(await count(server, `SELECT count(*)::int AS n FROM room_members WHERE room_id = $1 AND user_id = $2`, [roomId, people[2].id])).to.equal(0);
    });

    it('setTyping: 200 calls in a burst reach subscribers as a handful of events, ending in the last state', async () => {
      const server = await startServer();
      const { owner, member, roomId } = await staffedRoom(server.url);
      const TYPING = `subscription($r: ID!) { typing(roomId: $r) { isTyping } }`;
      const events = collect(wsClient(server, owner.token), TYPING, { r: roomId });
      await sleep(300);
      const SET = `mutation($r: ID!, $t: Boolean) { setTyping(roomId: $r, isTyping: $t) }`;
      for (let i = 0; i < 20; i++) {
        await Promise.all(Array.from({ length: 10 }, (_, j) => ok(server.url, SET, { r: roomId, t: (i * 10 + j) % 2 === 0 }, member.token)));
      }
      await ok(server.url, SET, { r: roomId, t: false }, member.token);
      await sleep(2500);
      const states = events.data.map((d) => d.typing.isTyping);
      expect(states.length, JSON.stringify(states)).to.be.within(1, 6);
      expect(states.at(-1)).to.equal(false);
    });
  });

  describe('3b. typing coalesced, not swallowed', () => {
    it('a subscriber who joins while someone types hears it with their next call, and a stop-start flicker ends as typing', async () => {
      const server = await startServer();
      const { owner, member, roomId } = await staffedRoom(server.url);
      const SET = `mutation($r: ID!, $t: Boolean) { setTyping(roomId: $r, isTyping: $t) }`;
      const TYPING = `subscription($r: ID!) { typing(roomId: $r) { isTyping } }`;
      // The member starts typing (published at once), stops and starts again within the second, as a
      // client does around a send; the owner opens the room in between.
      await ok(server.url, SET, { r: roomId, t: true }, member.token);
      await ok(server.url, SET, { r: roomId, t: false }, member.token);
      const events = collect(wsClient(server, owner.token), TYPING, { r: roomId });
      await sleep(200);
      await ok(server.url, SET, { r: roomId, t: true }, member.token);
      await waitFor(() => events.data.length > 0, 2000, 'the owner to hear the member typing');
      expect(events.data.map((d) => d.typing.isTyping)).to.deep.equal([true]);
      // Quiet: no more calls, no more events.
      await sleep(2300);
      expect(events.data).to.have.length(1);
    });
  });

  describe('4. a clientId retry never shows a room the caller cannot see', () => {
    it('refuses a retry naming another room, and answers a retry into a room left as for any room not seen', async () => {
      const server = await startServer();
      const { owner, member, roomId } = await staffedRoom(server.url);
      const elsewhere = await groupRoom(server.url, member, [], 'Elsewhere');
      const first = await ok(server.url, SEND, { input: { roomId, content: 'first', clientId: 'c-1' } }, member.token);
      expect(first.sendMessage.room.id).to.equal(roomId);

      const otherRoom = await gql(server.url, SEND, { input: { roomId: elsewhere, content: 'retry', clientId: 'c-1' } }, member.token);
      expect(otherRoom.errors?.[0].extensions.code).to.equal('BAD_USER_INPUT');
      expect(otherRoom.data ?? null).to.equal(null);

      await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: member.id }, owner.token);
      for (const target of [roomId, elsewhere]) {
        const res = await gql(server.url, SEND, { input: { roomId: target, content: 'retry', clientId: 'c-1' } }, member.token);
        expect(res.data ?? null).to.equal(null);
        expect(JSON.stringify(res)).not.to.include('Team');
      }
    });
  });

  describe('5. an anonymous client cannot make the server validate for nothing', () => {
    const bigInvalid = `{ ${Array.from({ length: 700 }, (_, i) => `f${i}: nope${i}`).join(' ')} }`;

    it('refuses a request without a valid token before validating it (401, UNAUTHENTICATED, no statement)', async () => {
      const server = await startServer();
      for (const token of [null, 'not-a-token']) {
        const res = await gql(server.url, bigInvalid, {}, token);
        expect(res.status).to.equal(401);
        expect(res.errors?.map((e) => e.extensions.code)).to.deep.equal(['UNAUTHENTICATED']);
        expect(res.extensions?.sqlStatements).to.equal(undefined);
      }
    });

    it('stops reading a document past 1,000 tokens, before validation, even with a token', async () => {
      const server = await startServer();
      const user = await makeUser();
      const res = await gql(server.url, `{ ${Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(' ')} }`, {}, user.token);
      expect(res.errors?.[0].extensions.code).to.equal('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors?.[0].message).to.match(/tokens/);
    });

    it('still lets Sandbox introspect without a token outside production, and not in production', async () => {
      const dev = await startServer();
      expect((await gql(dev.url, '{ __schema { queryType { name } } }')).data).to.deep.equal({ __schema: { queryType: { name: 'Query' } } });
      expect((await gql(dev.url, '{ __schema { queryType { name } } me { id } }')).status).to.equal(401);
      const production = await startServer({ env: { NODE_ENV: 'production' } });
      expect((await gql(production.url, '{ __schema { queryType { name } } }')).status).to.equal(401);
    });
  });

  describe('6. the sockets-per-user count stays exact', () => {
    it('a socket closed while its connection_init is still being checked takes no slot (25 quick cycles)', async () => {
      const server = await startServer({ maxSocketsPerUser: 2 });
      const user = await makeUser();
      for (let i = 0; i < 25; i++) {
        // A new name each time: the users row is rewritten, so onConnect awaits the database.
        const token = await signToken(TEST_JWT_SECRET, { userId: user.id, name: `Name ${i}`, companyId: user.companyId ?? undefined, expiresIn: '1h' });
        const socket = rawSocket(server);
        await handshake(socket);
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
        socket.terminate();
      }
      await sleep(500);
      await connects(server, user.token);
      await connects(server, user.token);
    });
  });

  describe('7. claims are input', () => {
    it('a NUL or a lone surrogate in the name claim is cleaned, not a database error', async () => {
      const server = await startServer();
      const id = randomUUID();
      const token = await signToken(TEST_JWT_SECRET, { userId: id, name: 'Ada\u0000 Love\ud800lace', expiresIn: '1h' });
      const { me } = await ok(server.url, '{ me { id displayName } }', {}, token);
      expect(me).to.deep.equal({ id, displayName: 'Ada Love\ufffdlace' });
      const roomId = (await ok(server.url, CREATE_GROUP, { name: 'mine', ids: [] }, token)).createGroupChat.id;
      await ok(server.url, SEND, { input: { roomId, content: 'works' } }, token);
    });
  });

  describe('8. a refused call stores nothing', () => {
    it('createGroupChat and addMembers naming 99 new users and one of another company store no user row', async () => {
      const server = await startServer();
      const { owner, roomId } = await staffedRoom(server.url);
      const foreign = await signIn(server.url, await makeUser({ companyId: randomUUID() }));
      const users = async () => count(server, `SELECT count(*)::int AS n FROM users`);
      const before = await users();
      const fresh = Array.from({ length: 99 }, () => randomUUID());
      expect(await errorCode(server.url, CREATE_GROUP, { name: 'mixed', ids: [...fresh, foreign.id] }, owner.token)).to.equal('FORBIDDEN');
      expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [...fresh, foreign.id] }, owner.token)).to.equal('FORBIDDEN');
      expect(await users()).to.equal(before);
      expect(await count(server, `SELECT count(*)::int AS n FROM rooms WHERE name = 'mixed'`)).to.equal(0);
    });
  });

  describe('9. odd variables never crash a subscription', () => {
    it('deeply nested unused variables: the subscription works and the socket stays open', async () => {
      const server = await startServer();
      const { owner, member, roomId } = await staffedRoom(server.url);
      const socket = rawSocket(server);
      let closed: number | null = null;
      socket.on('close', (code) => (closed = code));
      await handshake(socket);
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${member.token}` } }));
      expect(await nextMessage(socket)).to.deep.equal({ type: 'connection_ack' });
      // 30,000 levels (60 KB, under the 64 KiB frame limit), written by hand: JSON.stringify itself overflows on it.
      const deep = `${'['.repeat(30_000)}${']'.repeat(30_000)}`;
      const query = 'subscription($roomId: ID) { messageAdded(roomId: $roomId) { id content } }';
      socket.send(`{"id":"1","type":"subscribe","payload":{"query":${JSON.stringify(query)},"variables":{"roomId":"${roomId}","unused":${deep}}}}`);
      const frames: any[] = [];
      socket.on('message', (raw) => frames.push(JSON.parse(raw.toString())));
      for (let i = 0; i < 10 && !frames.some((f) => f.type === 'next'); i++) {
        await send(server.url, owner, roomId, `probe ${i}`);
        await sleep(200);
      }
      expect(frames.find((f) => f.type !== 'next') ?? null, 'no error, no completion').to.equal(null);
      expect(frames[0]?.payload?.data?.messageAdded?.content).to.match(/^probe/);
      expect(closed, 'the socket stays open').to.equal(null);
    });
  });

  describe('10. an existing message and a missing one take the same path', () => {
    it('reads of a message in a room not seen cost what a missing id costs', async () => {
      const server = await startServer();
      const { owner, roomId } = await staffedRoom(server.url);
      const message = await send(server.url, owner, roomId, 'hidden');
      const outsider = await signIn(server.url, await makeUser({ companyId: randomUUID() }));
      const nonMember = await signIn(server.url, await makeUser());
      for (const [label, query, variables] of [
        ['message', `query($id: ID!) { message(id: $id) { id } }`, (id: string) => ({ id })],
        ['editMessage', EDIT, (id: string) => ({ id, c: 'x' })],
        ['deleteMessage', `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, (id: string) => ({ id })],
        ['addReaction', `mutation($id: ID!) { addReaction(messageId: $id, reaction: "x") { id } }`, (id: string) => ({ id })],
      ] as const) {
        for (const caller of [outsider, nonMember]) {
          const existing = await gql(server.url, query, variables(message.id), caller.token);
          const missing = await gql(server.url, query, variables(randomUUID()), caller.token);
          expect(existing.errors?.[0].extensions.code, label).to.equal('NOT_FOUND');
          expect({ message: existing.errors?.[0].message, statements: existing.extensions?.sqlStatements }, label).to.deep.equal({
            message: missing.errors?.[0].message,
            statements: missing.extensions?.sqlStatements,
          });
        }
      }
    });
  });

  describe('decisions: tokens without exp, and browser origins in production', () => {
    const noExpiry = (userId: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).sign(new TextEncoder().encode(TEST_JWT_SECRET));

    it('refuses a token without exp in production and accepts it outside production', async () => {
      const token = await noExpiry(randomUUID());
      const production = await startServer({ env: { NODE_ENV: 'production', CORS_ORIGINS: 'http://app.test' } });
      const refused = await gql(production.url, '{ me { id } }', {}, token);
      expect(refused.errors?.[0]).to.deep.include({ message: 'The token must carry an expiry (exp)' });
      expect(refused.errors?.[0].extensions.code).to.equal('UNAUTHENTICATED');
      const dev = await startServer();
      await ok(dev.url, '{ me { id } }', {}, token);
    });

    it('in production a WebSocket Origin must be listed in CORS_ORIGINS: the Host header is never trusted', async () => {
      const unset = await startServer({ env: { NODE_ENV: 'production' } });
      const ownOrigin = new URL(unset.url).origin;
      expect(await handshake(rawSocket(unset, ownOrigin))).to.equal('refused');
      const listed = await startServer({ env: { NODE_ENV: 'production', CORS_ORIGINS: 'http://app.test' } });
      expect(await handshake(rawSocket(listed, 'http://app.test'))).to.equal('open');
      expect(await handshake(rawSocket(listed, new URL(listed.url).origin))).to.equal('refused');
      // Clients that are not browsers send no Origin and are judged by their token.
      expect(await handshake(rawSocket(listed))).to.equal('open');
    });
  });
});
