import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { signToken } from '../src/auth/token';
import { gql, makeUser, ok, signIn, type TestUser, newUser } from './support/client';
import { groupRoom, send, staffedRoom } from './support/factories';
import { redisCluster } from './support/redis-servers';
import { startServer, wsClient, TEST_JWT_SECRET, type TestServer } from './support/server';
import { closeCodeOf, closeOf, collect, connects, handshake, nextMessage, rawSocket, ready, refusal, sleep, waitFor, type Collected } from './support/ws';
import { ADD_MEMBERS, ADD_REACTION, DELETE, EDIT, REMOVE_MEMBER, REMOVE_REACTION, SET_TYPING, UPDATE_ROLE } from './support/operations';

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/* ----------------------------------------------------------- documents */

interface Msg {
  id: string;
  seq: number;
  content: string | null;
  room: { id: string };
  sender: { id: string } | null;
}

const MESSAGE_FIELDS = 'id seq content room { id } sender { id }';
const MESSAGE_ADDED = `subscription($roomId: ID, $since: ID) { messageAdded(roomId: $roomId, since: $since) { ${MESSAGE_FIELDS} } }`;
const MESSAGE_UPDATED = `subscription($roomId: ID) { messageUpdated(roomId: $roomId) { id content isEdited isDeleted editedAt reactions { reaction count } } }`;
const MEMBERSHIP_CHANGED = `subscription { membershipChanged { kind room { id } member { role isActive user { id } } } }`;
const TYPING = `subscription($roomId: ID!) { typing(roomId: $roomId) { room { id } user { id } isTyping at } }`;


/** No per-user rate limit in the way of tests that send many messages. */
const NO_RATE_LIMIT = { MESSAGE_RATE_LIMIT: '100000/10', REACTION_RATE_LIMIT: '100000/10', ROOM_RATE_LIMIT: '100000/10', EDIT_RATE_LIMIT: '100000/10' };
const REDIS = { REDIS_URL: 'redis://127.0.0.1:6379' };

const EVENT_BACKENDS = [
  { name: 'in-process', shared: false, env: async (): Promise<Record<string, string>> => ({}) },
  { name: 'over one Redis', shared: true, env: async (): Promise<Record<string, string>> => REDIS },
  { name: 'over a Redis Cluster', shared: true, env: async (): Promise<Record<string, string>> => (await redisCluster()).env },
];

async function users(server: TestServer, n: number): Promise<TestUser[]> {
  const list: TestUser[] = [];
  for (let i = 0; i < n; i++) list.push(await newUser(server.url));
  return list;
}

const contents = (sub: Collected<{ messageAdded: Msg }>) => sub.data.map((d) => d.messageAdded.content);

/* ------------------------------------------------------------------ tests */

describe('subscriptions (graphql-ws)', () => {
  /*
   * Every event test runs over each way events travel: in-process (one server),
   * one Redis and a Redis Cluster (sharded pub/sub; test/support/redis-servers.ts).
   * The tests across instances run over the two Redis ones.
   */
  for (const backend of EVENT_BACKENDS) {
    describe(`events ${backend.name}`, () => {
      let env: Record<string, string> = {};
      before(async function () {
        this.timeout(60_000);
        env = await backend.env();
      });
      /** A server with this backend (and `extra` settings). */
      const serve = (extra: Record<string, string> = {}) => startServer({ env: { ...env, ...extra } });
      /** A server that shares events with others: this backend, or one Redis when this one is in-process. */
      const serveAcross = () => startServer({ env: backend.shared ? env : REDIS });

    describe('messageAdded', () => {
      it('delivers to a member the message another member sends over HTTP', async () => {
        const server = await serve();
        const [alice, bob] = await users(server, 2);
        const roomId = await groupRoom(server.url, alice, [bob]);
        const inbox = collect<{ messageAdded: Msg }>(wsClient(server, bob.token), MESSAGE_ADDED, { roomId });
        await ready([inbox], () => send(server.url, alice, roomId, 'probe'));

        const sent = await send(server.url, alice, roomId, 'hello bob');

        await waitFor(() => inbox.data.some((d) => d.messageAdded.id === sent.id), 5000, 'bob to receive the message');
        const got = inbox.data.find((d) => d.messageAdded.id === sent.id)!.messageAdded;
        expect(got).to.deep.equal({ id: sent.id, seq: sent.seq, content: 'hello bob', room: { id: roomId }, sender: { id: alice.id } });
        expect(inbox.errors).to.deep.equal([]);
      });

      it('without roomId delivers the messages of every room I am in, and none of the rooms I am not in', async () => {
        const server = await serve();
        const [alice, bob, carol] = await users(server, 3);
        const withAlice = await groupRoom(server.url, alice, [bob], 'alice+bob');
        const withCarol = await groupRoom(server.url, carol, [bob], 'carol+bob');
        const withoutBob = await groupRoom(server.url, alice, [carol], 'alice+carol');
        const inbox = collect<{ messageAdded: Msg }>(wsClient(server, bob.token), MESSAGE_ADDED, {});
        await ready([inbox], () => send(server.url, alice, withAlice, 'probe'));

        const a = await send(server.url, alice, withAlice, 'in alice+bob');
        const secret = await send(server.url, carol, withoutBob, 'not for bob');
        const c = await send(server.url, carol, withCarol, 'in carol+bob');
        const secret2 = await send(server.url, alice, withoutBob, 'not for bob either');
        const fence = await send(server.url, alice, withAlice, 'fence');

        await waitFor(() => inbox.data.some((d) => d.messageAdded.id === fence.id), 5000, 'the fence message');
        const ids = inbox.data.map((d) => d.messageAdded.id);
        expect(ids).to.include.members([a.id, c.id, fence.id]);
        expect(ids).not.to.include(secret.id);
        expect(ids).not.to.include(secret2.id);
        expect(inbox.data.map((d) => d.messageAdded.room.id)).not.to.include(withoutBob);
        expect(inbox.errors).to.deep.equal([]);
      });

      it('refuses a non-member with NOT_FOUND (like a room that does not exist) and delivers nothing', async () => {
        const server = await serve();
        const [alice, bob, stranger] = await users(server, 3);
        const roomId = await groupRoom(server.url, alice, [bob]);
        const strangerClient = wsClient(server, stranger.token);
        const refused = collect<{ messageAdded: Msg }>(strangerClient, MESSAGE_ADDED, { roomId });
        const missing = collect<{ messageAdded: Msg }>(strangerClient, MESSAGE_ADDED, { roomId: randomUUID() });
        const witness = collect<{ messageAdded: Msg }>(wsClient(server, bob.token), MESSAGE_ADDED, { roomId });

        expect(await refusal(refused)).to.deep.equal(['NOT_FOUND']);
        expect(await refusal(missing)).to.deep.equal(['NOT_FOUND']);
        expect(refused.errors[0].message).to.equal(missing.errors[0].message);

        await ready([witness], () => send(server.url, alice, roomId, 'probe'));
        const sent = await send(server.url, alice, roomId, 'members only');
        await waitFor(() => witness.data.some((d) => d.messageAdded.id === sent.id), 5000, 'the member to receive it');
        await sleep(300);
        expect(refused.data).to.deep.equal([]);
        expect(missing.data).to.deep.equal([]);
      });

      it('refuses a non-member on messageUpdated(roomId) and typing(roomId) too', async () => {
        const server = await serve();
        const [alice, stranger] = await users(server, 2);
        const roomId = await groupRoom(server.url, alice, []);
        const client = wsClient(server, stranger.token);
        expect(await refusal(collect(client, MESSAGE_UPDATED, { roomId }))).to.deep.equal(['NOT_FOUND']);
        expect(await refusal(collect(client, TYPING, { roomId }))).to.deep.equal(['NOT_FOUND']);
      });

      it('a removed member receives nothing sent after the removal, even with sends racing it (20 rounds)', async () => {
        const server = await serve(NO_RATE_LIMIT);
        const [owner, bob, carol] = await users(server, 3);
        const fenceRoom = await groupRoom(server.url, owner, [bob], 'fence');
        const bobClient = wsClient(server, bob.token);
        const ownerClient = wsClient(server, owner.token);
        const leaks: string[] = [];

        for (let round = 0; round < 20; round++) {
          const roomId = await groupRoom(server.url, owner, [bob, carol], `race ${round}`);
          const bobRoom = collect<{ messageAdded: Msg }>(bobClient, MESSAGE_ADDED, { roomId });
          const bobAll = collect<{ messageAdded: Msg }>(bobClient, MESSAGE_ADDED, {});
          const witness = collect<{ messageAdded: Msg }>(ownerClient, MESSAGE_ADDED, { roomId });
          await ready([bobRoom, bobAll, witness], () => send(server.url, carol, roomId, 'probe'));

          const racing = Array.from({ length: 3 }, (_, i) => send(server.url, carol, roomId, `racing ${i}`));
          await ok(server.url, REMOVE_MEMBER, { r: roomId, u: bob.id }, owner.token);
          const after = await Promise.all(Array.from({ length: 5 }, (_, i) => send(server.url, carol, roomId, `after ${i}`)));
          await Promise.all(racing);
          const fence = await send(server.url, owner, fenceRoom, `fence ${round}`);

          const afterIds = new Set(after.map((m) => m.id));
          await waitFor(() => after.every((m) => witness.data.some((d) => d.messageAdded.id === m.id)), 5000, 'the witness to get every later message');
          await waitFor(() => bobAll.data.some((d) => d.messageAdded.id === fence.id), 5000, 'bob to get the fence message');
          await sleep(100);

          const firstAfterSeq = Math.min(...after.map((m) => m.seq));
          for (const sub of [bobRoom, bobAll]) {
            for (const { messageAdded: m } of sub.data) {
              if (m.room.id !== roomId) continue;
              if (afterIds.has(m.id) || m.seq >= firstAfterSeq) leaks.push(`round ${round}: seq ${m.seq} (${m.content})`);
            }
          }
          bobRoom.stop();
          bobAll.stop();
          witness.stop();
        }
        expect(leaks, 'messages stored after the removal reached the removed member').to.deep.equal([]);
      });

      it('a removed member stops receiving messageUpdated and typing of that room', async () => {
        const server = await serve();
        const [owner, bob] = await users(server, 2);
        const roomId = await groupRoom(server.url, owner, [bob]);
        const message = await send(server.url, owner, roomId, 'before');
        const bobClient = wsClient(server, bob.token);
        const updates = collect<{ messageUpdated: { id: string; content: string } }>(bobClient, MESSAGE_UPDATED, { roomId });
        const typing = collect<{ typing: { user: { id: string } } }>(bobClient, TYPING, { roomId });
        const ownerClient = wsClient(server, owner.token);
        const witness = collect<{ messageUpdated: { id: string; content: string } }>(ownerClient, MESSAGE_UPDATED, { roomId });

        // Both subscriptions work while bob is a member.
        for (let i = 0; i < 10 && typing.data.length === 0; i++) {
          await ok(server.url, SET_TYPING, { r: roomId, t: true }, owner.token);
          await sleep(300);
        }
        await waitFor(() => typing.data.length > 0, 5000, 'typing to reach bob while a member');
        await ok(server.url, EDIT, { id: message.id, c: 'edit while member' }, owner.token);
        await waitFor(() => updates.data.some((d) => d.messageUpdated.content === 'edit while member'), 5000, 'the edit to reach bob');

        await ok(server.url, REMOVE_MEMBER, { r: roomId, u: bob.id }, owner.token);
        const typingBefore = typing.data.length;
        await ok(server.url, SET_TYPING, { r: roomId, t: false }, owner.token);
        await ok(server.url, EDIT, { id: message.id, c: 'edit after removal' }, owner.token);
        await waitFor(() => witness.data.some((d) => d.messageUpdated.content === 'edit after removal'), 5000, 'the owner to see the edit');
        await sleep(300);

        expect(updates.data.map((d) => d.messageUpdated.content)).not.to.include('edit after removal');
        // Typing events sent before the removal may still be in flight; none may be isTyping:false.
        expect(typing.data.slice(typingBefore).map((d) => (d.typing as any).isTyping)).not.to.include(false);
      });
    });

    describe('messageAdded with since', () => {
      it('replays every message after `since` then goes live: each seq exactly once, in order, while 300 messages are being sent', async () => {
        const server = await serve(NO_RATE_LIMIT);
        const [alice, bob] = await users(server, 2);
        const roomId = await groupRoom(server.url, alice, [bob]);
        const bySeq = new Map<number, string>();
        let sentCount = 0;
        const sending = (async () => {
          for (let batch = 0; batch < 60; batch++) {
            const sent = await Promise.all(Array.from({ length: 5 }, (_, i) => send(server.url, alice, roomId, `m ${batch * 5 + i}`)));
            for (const m of sent) bySeq.set(m.seq, m.id);
            sentCount += sent.length;
          }
        })();

        await waitFor(() => sentCount >= 120 || sentCount === 300, 30_000, '120 messages to be sent');
        expect(sentCount, 'the subscription should start while messages are still being sent').to.be.lessThan(300);
        const since = bySeq.get(50)!;
        const inbox = collect<{ messageAdded: Msg }>(wsClient(server, bob.token), MESSAGE_ADDED, { roomId, since });
        await sending;
        expect(Math.max(...bySeq.keys())).to.equal(300);

        await waitFor(() => inbox.data.some((d) => d.messageAdded.seq === 300) || inbox.errors.length > 0, 10_000, 'seq 300 to arrive');
        await sleep(200);
        expect(inbox.errors).to.deep.equal([]);
        const seqs = inbox.data.map((d) => d.messageAdded.seq);
        expect(seqs).to.deep.equal(Array.from({ length: 250 }, (_, i) => 51 + i));
        expect(inbox.data.map((d) => d.messageAdded.id)).to.deep.equal(seqs.map((s) => bySeq.get(s)));
      });

      it('refuses `since` without roomId, and `since` naming a message of another room, with BAD_USER_INPUT', async () => {
        const server = await serve();
        const [alice] = await users(server, 1);
        const roomA = await groupRoom(server.url, alice, [], 'A');
        const roomB = await groupRoom(server.url, alice, [], 'B');
        const inB = await send(server.url, alice, roomB, 'in B');
        const client = wsClient(server, alice.token);
        expect(await refusal(collect(client, MESSAGE_ADDED, { since: inB.id }))).to.deep.equal(['BAD_USER_INPUT']);
        expect(await refusal(collect(client, MESSAGE_ADDED, { roomId: roomA, since: inB.id }))).to.deep.equal(['BAD_USER_INPUT']);
        expect(await refusal(collect(client, MESSAGE_ADDED, { roomId: roomA, since: randomUUID() }))).to.deep.equal(['BAD_USER_INPUT']);
      });
    });

    describe('messageUpdated', () => {
      it('delivers the message after an edit, a reaction change and a deletion', async () => {
        const server = await serve();
        const [alice, bob] = await users(server, 2);
        const roomId = await groupRoom(server.url, alice, [bob]);
        const message = await send(server.url, alice, roomId, 'original');
        type Updated = { messageUpdated: { id: string; content: string | null; isEdited: boolean; isDeleted: boolean; editedAt: string | null; reactions: { reaction: string; count: number }[] } };
        const inbox = collect<Updated>(wsClient(server, bob.token), MESSAGE_UPDATED, { roomId });
        const all = collect<Updated>(wsClient(server, bob.token), MESSAGE_UPDATED, {});
        const mine = (sub: Collected<Updated>) => sub.data.map((d) => d.messageUpdated).filter((m) => m.id === message.id);

        // The first edit may precede the subscription's setup: edit until one arrives (bounded).
        for (let i = 0; i < 10 && !(mine(inbox).length && mine(all).length); i++) {
          await ok(server.url, EDIT, { id: message.id, c: `edited ${i}` }, alice.token);
          await sleep(300);
        }
        await waitFor(() => mine(inbox).some((m) => m.content?.startsWith('edited') && m.isEdited && m.editedAt !== null), 5000, 'the edit');
        await waitFor(() => mine(all).some((m) => m.content?.startsWith('edited')), 5000, 'the edit without roomId');

        await ok(server.url, ADD_REACTION, { id: message.id, r: ':+1:' }, alice.token);
        await ok(server.url, ADD_REACTION, { id: message.id, r: ':+1:' }, bob.token);
        await waitFor(() => mine(inbox).some((m) => m.reactions.some((r) => r.reaction === ':+1:' && r.count === 2)), 5000, 'a reaction count of 2');
        await ok(server.url, REMOVE_REACTION, { id: message.id, r: ':+1:' }, alice.token);
        await waitFor(() => {
          const last = mine(inbox).at(-1);
          return !!last && last.reactions.length === 1 && last.reactions[0].count === 1;
        }, 5000, 'the reaction count back to 1');

        await ok(server.url, DELETE, { id: message.id }, alice.token);
        await waitFor(() => mine(inbox).some((m) => m.isDeleted), 5000, 'the deletion');
        const deleted = mine(inbox).find((m) => m.isDeleted)!;
        expect(deleted.content).to.equal(null);
        expect(deleted.isDeleted).to.equal(true);
        expect(inbox.errors).to.deep.equal([]);
      });
    });

    describe('membershipChanged', () => {
      it('delivers ADDED, ROLE_CHANGED and REMOVED to the affected user and to the other members, not to outsiders', async () => {
        const server = await serve();
        const [owner, bob, carol, outsider] = await users(server, 4);
        const roomId = await groupRoom(server.url, owner, [bob]);
        await groupRoom(server.url, outsider, [], 'elsewhere');
        type Event = { membershipChanged: { kind: string; room: { id: string }; member: { role: string; isActive: boolean; user: { id: string } } } };
        const bobSees = collect<Event>(wsClient(server, bob.token), MEMBERSHIP_CHANGED);
        const carolSees = collect<Event>(wsClient(server, carol.token), MEMBERSHIP_CHANGED);
        const outsiderSees = collect<Event>(wsClient(server, outsider.token), MEMBERSHIP_CHANGED);
        await sleep(500); // no acknowledgement of a subscription in graphql-ws; this one has no setup reads

        const about = (sub: Collected<Event>, kind: string) =>
          sub.data.map((d) => d.membershipChanged).filter((e) => e.kind === kind && e.room.id === roomId && e.member.user.id === carol.id);

        await ok(server.url, ADD_MEMBERS, { r: roomId, u: [carol.id] }, owner.token);
        await waitFor(() => about(bobSees, 'ADDED').length > 0 && about(carolSees, 'ADDED').length > 0, 5000, 'ADDED to reach bob and carol');
        expect(about(carolSees, 'ADDED')[0].member).to.deep.include({ role: 'MEMBER', isActive: true });

        await ok(server.url, UPDATE_ROLE, { r: roomId, u: carol.id, role: 'ADMIN' }, owner.token);
        await waitFor(() => about(bobSees, 'ROLE_CHANGED').length > 0 && about(carolSees, 'ROLE_CHANGED').length > 0, 5000, 'ROLE_CHANGED to reach bob and carol');
        expect(about(bobSees, 'ROLE_CHANGED')[0].member.role).to.equal('ADMIN');

        await ok(server.url, REMOVE_MEMBER, { r: roomId, u: carol.id }, owner.token);
        await waitFor(
          () => about(bobSees, 'REMOVED').length > 0 && (about(carolSees, 'REMOVED').length > 0 || carolSees.errors.length > 0),
          5000,
          'REMOVED to reach bob and carol',
        );
        expect(carolSees.errors, 'the removed user gets her REMOVED event without errors').to.deep.equal([]);
        expect(about(carolSees, 'REMOVED')[0].member.isActive).to.equal(false);
        expect(about(bobSees, 'REMOVED')[0].member.isActive).to.equal(false);

        await sleep(200);
        expect(outsiderSees.data.filter((d) => d.membershipChanged.room.id === roomId)).to.deep.equal([]);
        expect(bobSees.errors).to.deep.equal([]);
      });
    });

    describe('typing', () => {
      it('reaches the other members, not the typist, and stores nothing', async () => {
        const server = await serve();
        const [alice, bob] = await users(server, 2);
        const roomId = await groupRoom(server.url, alice, [bob]);
        await send(server.url, alice, roomId, 'one stored message');
        type Typing = { typing: { room: { id: string }; user: { id: string }; isTyping: boolean; at: string } };
        const aliceSees = collect<Typing>(wsClient(server, alice.token), TYPING, { roomId });
        const bobSees = collect<Typing>(wsClient(server, bob.token), TYPING, { roomId });
        await sleep(500);

        const snapshot = async () => {
          const rooms = await ok(server.url, '{ rooms { total items { id updatedAt lastMessageAt } } }', {}, alice.token);
          const messages = await ok(server.url, 'query($r: ID!) { messages(roomId: $r, includeDeleted: true) { id seq } }', { r: roomId }, alice.token);
          const tables = (await server.app.db.query(
            `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
          )) as { table_name: string }[];
          const counts: Record<string, number> = {};
          for (const { table_name } of tables) {
            const [row] = await server.app.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table_name}"`);
            counts[table_name] = row.n;
          }
          return { rooms, messages, counts };
        };
        const before = await snapshot();

        for (let i = 0; i < 10 && !bobSees.data.length; i++) {
          expect((await ok(server.url, SET_TYPING, { r: roomId, t: true }, alice.token)).setTyping).to.equal(true);
          await sleep(300);
        }
        await waitFor(() => bobSees.data.length > 0, 5000, 'bob to see alice typing');
        const seen = bobSees.data[0].typing;
        expect(seen.user.id).to.equal(alice.id);
        expect(seen.room.id).to.equal(roomId);
        expect(seen.isTyping).to.equal(true);
        expect(Number.isNaN(Date.parse(seen.at))).to.equal(false);

        // Bob types after alice: once alice sees bob, an echo of her own typing would have arrived first.
        await ok(server.url, SET_TYPING, { r: roomId, t: false }, bob.token);
        await waitFor(() => aliceSees.data.length > 0, 5000, 'alice to see bob typing');
        expect(aliceSees.data.map((d) => d.typing.user.id)).to.deep.equal([bob.id]);
        expect(aliceSees.data[0].typing.isTyping).to.equal(false);
        expect(bobSees.data.map((d) => d.typing.user.id).every((id) => id === alice.id)).to.equal(true);

        expect(await snapshot()).to.deep.equal(before);
      });
    });

    describe('across instances', () => {
      it('a subscriber on server A receives messageAdded, messageUpdated, membershipChanged and typing for actions done through server B', async () => {
        const a = await serveAcross();
        const b = await serveAcross();
        const [alice, bob, carol] = await users(a, 3);
        const roomId = await groupRoom(b.url, alice, [bob]);
        const bobOnA = wsClient(a, bob.token);
        const added = collect<{ messageAdded: Msg }>(bobOnA, MESSAGE_ADDED, { roomId });
        const updated = collect<{ messageUpdated: { id: string; content: string } }>(bobOnA, MESSAGE_UPDATED, { roomId });
        const membership = collect<{ membershipChanged: { kind: string; member: { user: { id: string } } } }>(bobOnA, MEMBERSHIP_CHANGED);
        const typing = collect<{ typing: { user: { id: string }; isTyping: boolean } }>(bobOnA, TYPING, { roomId });
        await ready([added], () => send(b.url, alice, roomId, 'probe via B'));
        await sleep(300);

        const sent = await send(b.url, alice, roomId, 'hello from B');
        await waitFor(() => added.data.some((d) => d.messageAdded.id === sent.id && d.messageAdded.content === 'hello from B'), 5000, 'messageAdded across instances');

        await ok(b.url, EDIT, { id: sent.id, c: 'edited on B' }, alice.token);
        await waitFor(() => updated.data.some((d) => d.messageUpdated.id === sent.id && d.messageUpdated.content === 'edited on B'), 5000, 'messageUpdated across instances');

        await ok(b.url, ADD_MEMBERS, { r: roomId, u: [carol.id] }, alice.token);
        await waitFor(() => membership.data.some((d) => d.membershipChanged.kind === 'ADDED' && d.membershipChanged.member.user.id === carol.id), 5000, 'membershipChanged across instances');

        await ok(b.url, SET_TYPING, { r: roomId, t: true }, alice.token);
        await waitFor(() => typing.data.some((d) => d.typing.user.id === alice.id && d.typing.isTyping), 5000, 'typing across instances');

        for (const sub of [added, updated, membership, typing]) expect(sub.errors).to.deep.equal([]);
      });
    });
    });
  }

  describe('who receives what, beyond the backends', () => {
    it("never follows a user, whose live stream runs on a token of another company, back into a room of the old company", async () => {
      const server = await startServer({ env: NO_RATE_LIMIT });
      const [owner, user] = await users(server, 2);
      const roomId = await groupRoom(server.url, owner, [user]);
      // The user's stream runs on a token naming another company, fenced by a room of that company.
      const other = await signToken(TEST_JWT_SECRET, { userId: user.id, name: user.name, companyId: randomUUID(), expiresIn: '1h' });
      const asOther = { ...user, token: other };
      const ownRoom = await groupRoom(server.url, asOther, [], 'the other company');
      const everywhere = collect<{ messageAdded: Msg }>(wsClient(server, other), MESSAGE_ADDED, {});
      await ready([everywhere], () => send(server.url, asOther, ownRoom, 'probe'));
      // Removed, then back with a token of the old company, then re-added to the old company's room.
      await ok(server.url, REMOVE_MEMBER, { r: roomId, u: user.id }, owner.token);
      await signIn(server.url, user);
      await ok(server.url, ADD_MEMBERS, { r: roomId, u: [user.id] }, owner.token);
      await send(server.url, owner, roomId, 'for the old company only');
      await ready([everywhere], () => send(server.url, asOther, ownRoom, 'fence'));
      expect(everywhere.errors).to.deep.equal([]);
      expect(contents(everywhere)).not.to.include('for the old company only');
    });

    it('never sends one version of a message twice, even when its changes come in a burst', async () => {
      const server = await startServer({ env: NO_RATE_LIMIT });
      const [owner, ...reactors] = await users(server, 6);
      const roomId = await groupRoom(server.url, owner, reactors);
      const target = await send(server.url, owner, roomId, 'react to me');
      const updates = collect<{ messageUpdated: { id: string; version: string } }>(
        wsClient(server, owner.token),
        `subscription($roomId: ID) { messageUpdated(roomId: $roomId) { id version } }`,
        { roomId },
      );
      await ready([updates], async () => (await ok(server.url, EDIT, { id: (await send(server.url, owner, roomId, 'probe')).id, c: 'probed' }, owner.token)).editMessage, (d, id) => d.messageUpdated.id === id);
      await Promise.all(reactors.flatMap((r, i) => [ok(server.url, ADD_REACTION, { id: target.id, r: `:a${i}:` }, r.token), ok(server.url, ADD_REACTION, { id: target.id, r: `:b${i}:` }, r.token)]));
      // Events that arrive after later changes committed (a slow broker, a busy server) all read the message as it is now.
      for (let i = 0; i < 5; i++) server.app.bus.publish({ kind: 'messageUpdated', roomId, messageId: target.id });
      const final = (await ok(server.url, `query($id: ID!) { message(id: $id) { version } }`, { id: target.id }, owner.token)).message.version;
      await waitFor(() => updates.data.some((d) => d.messageUpdated.version === final), 5000, 'the last version');
      await sleep(300);
      const delivered = updates.data.filter((d) => d.messageUpdated.id === target.id).map((d) => d.messageUpdated.version);
      expect(delivered.length).to.be.at.least(1);
      expect(new Set(delivered).size, `versions delivered: ${delivered.join(', ')}`).to.equal(delivered.length);
    });
  });

  describe('authentication', () => {
    it('closes the socket with 4401 for no token, garbage, a wrong secret, an expired token, alg none and a non-UUID sub', async () => {
      const server = await startServer();
      const now = Math.floor(Date.now() / 1000);
      const wrongSecret = await signToken('not-the-test-secret-at-all', { userId: randomUUID(), expiresIn: '1h' });
      const expired = (await makeUser({ expiresIn: -60 })).token;
      const algNone = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: randomUUID(), iat: now, exp: now + 3600 })}.`;
      const notUuid = await signToken(TEST_JWT_SECRET, { userId: 'not-a-uuid', expiresIn: '1h' });

      const codes = {
        none: await closeCodeOf(server, null),
        garbage: await closeCodeOf(server, 'Bearer garbage.garbage.garbage'),
        wrongSecret: await closeCodeOf(server, `Bearer ${wrongSecret}`),
        expired: await closeCodeOf(server, `Bearer ${expired}`),
        algNone: await closeCodeOf(server, `Bearer ${algNone}`),
        notUuid: await closeCodeOf(server, `Bearer ${notUuid}`),
      };
      expect(codes).to.deep.equal({ none: 4401, garbage: 4401, wrongSecret: 4401, expired: 4401, algNone: 4401, notUuid: 4401 });

      // A valid token is acknowledged.
      const valid = await makeUser();
      await connects(server, valid.token);
    });

    it('closes a socket with 4403 once its token expires, not before', async () => {
      const server = await startServer();
      const user = await makeUser({ expiresIn: 2 });
      const exp = JSON.parse(Buffer.from(user.token.split('.')[1], 'base64url').toString()).exp as number;
      let closed: { code: number; at: number } | null = null;
      let connected = false;
      wsClient(server, user.token, {
        onNonLazyError: () => {},
        on: {
          connected: () => (connected = true),
          closed: (event) => (closed = { code: (event as { code: number }).code, at: Date.now() }),
        },
      });
      await waitFor(() => connected || closed !== null, 5000, 'the socket to be acknowledged');
      expect(connected, 'the socket is accepted while the token is valid').to.equal(true);
      await waitFor(() => closed !== null, 6000, 'the socket to be closed after expiry');
      expect(closed!.code).to.equal(4403);
      expect(closed!.at).to.be.at.least(exp * 1000 - 50);
    });

    it('closes the extra socket of a user with 4429 and keeps the others working', async () => {
      const server = await startServer({ maxSocketsPerUser: 2 });
      const [alice, bob] = await users(server, 2);
      const roomId = await groupRoom(server.url, alice, [bob]);
      const first = await connects(server, bob.token);
      const second = await connects(server, bob.token);
      expect(await closeCodeOf(server, `Bearer ${bob.token}`)).to.equal(4429);

      const subs = [first, second].map((c) => collect<{ messageAdded: Msg }>(c, MESSAGE_ADDED, { roomId }));
      await ready(subs, () => send(server.url, alice, roomId, 'probe'));
      // Another user is not affected by bob's limit.
      await connects(server, alice.token);
    });
  });

  describe('limits', () => {
    it('with maxSubscriptionsPerSocket 3 the 4th subscription fails alone; the first 3 still receive', async () => {
      const server = await startServer({ maxSubscriptionsPerSocket: 3 });
      const [alice, bob] = await users(server, 2);
      const roomId = await groupRoom(server.url, alice, [bob]);
      const client = wsClient(server, bob.token);
      let closedCode: number | null = null;
      client.on('closed', (event) => (closedCode = (event as { code: number }).code));
      const three = [0, 1, 2].map(() => collect<{ messageAdded: Msg }>(client, MESSAGE_ADDED, { roomId }));
      await ready(three, () => send(server.url, alice, roomId, 'probe'));

      const fourth = collect<{ messageAdded: Msg }>(client, MESSAGE_ADDED, { roomId });
      expect(await refusal(fourth)).to.deep.equal(['BAD_USER_INPUT']);

      const sent = await send(server.url, alice, roomId, 'after the refusal');
      await waitFor(() => three.every((s) => s.data.some((d) => d.messageAdded.id === sent.id)), 5000, 'the first three to receive');
      expect(fourth.data).to.deep.equal([]);
      expect(three.flatMap((s) => s.errors)).to.deep.equal([]);
      expect(closedCode, 'the socket stays open').to.equal(null);
    });

    it('closes the socket (1009) on a frame over 64 KiB, and keeps it open below', async () => {
      const server = await startServer();
      const [bob] = await users(server, 1);
      const socket = rawSocket(server);
      expect(await handshake(socket)).to.equal('open');
      const ack = nextMessage(socket);
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${bob.token}` } }));
      expect((await ack).type).to.equal('connection_ack');

      const pong = nextMessage(socket);
      socket.send(JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(60 * 1024) } }));
      expect((await pong).type).to.equal('pong');

      const closed = closeOf(socket);
      socket.send(JSON.stringify({ type: 'ping', payload: { pad: 'x'.repeat(70 * 1024) } }));
      expect(await closed).to.equal(1009);
    });

    it('refuses a depth-bomb subscription with GRAPHQL_VALIDATION_FAILED, alone: the socket and its other subscriptions live on', async () => {
      const server = await startServer();
      const [alice, bob] = await users(server, 2);
      const roomId = await groupRoom(server.url, alice, [bob]);
      const client = wsClient(server, bob.token);
      let closedCode: number | null = null;
      client.on('closed', (event) => (closedCode = (event as { code: number }).code));
      const shallow = collect<{ messageAdded: Msg }>(client, MESSAGE_ADDED, { roomId });
      await ready([shallow], () => send(server.url, alice, roomId, 'probe'));

      const bomb = `subscription($roomId: ID) { messageAdded(roomId: $roomId) { room { members { room { members { room { members { room { members { room { id } } } } } } } } } } }`;
      const refused = collect(client, bomb, { roomId });
      expect(await refusal(refused)).to.deep.equal(['GRAPHQL_VALIDATION_FAILED']);

      const sent = await send(server.url, alice, roomId, 'after the bomb');
      await waitFor(() => shallow.data.some((d) => d.messageAdded.id === sent.id), 5000, 'the other subscription to keep receiving');
      expect(refused.data).to.deep.equal([]);
      expect(closedCode, 'the socket stays open').to.equal(null);
    });

    it('refuses an alias-bomb subscription with GRAPHQL_VALIDATION_FAILED', async () => {
      const server = await startServer();
      const [alice] = await users(server, 1);
      const roomId = await groupRoom(server.url, alice, []);
      const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: id`).join(' ');
      const refused = collect(wsClient(server, alice.token), `subscription($roomId: ID) { messageAdded(roomId: $roomId) { ${aliases} } }`, { roomId });
      expect(await refusal(refused)).to.deep.equal(['GRAPHQL_VALIDATION_FAILED']);
    });

    it('refuses a subscription over the query cost limit, as HTTP refuses the same selection', async () => {
      const server = await startServer();
      const [alice] = await users(server, 1);
      const roomId = await groupRoom(server.url, alice, []);
      // Within depth 8, but members x messages(limit: 200) x reactions x users weighs over 50 000.
      const costly = 'room { members { room { messages(limit: 200) { reactions { users { id } } } } } }';
      const overHttp = await gql(server.url, `query($r: ID!) { room(id: $r) { id ${costly.slice('room {'.length, -1)} } }`, { r: roomId }, alice.token);
      expect(overHttp.errors?.map((e) => e.extensions.code)).to.deep.equal(['GRAPHQL_VALIDATION_FAILED']);

      const refused = collect(wsClient(server, alice.token), `subscription($roomId: ID) { messageAdded(roomId: $roomId) { ${costly} } }`, { roomId });
      expect(await refusal(refused)).to.deep.equal(['GRAPHQL_VALIDATION_FAILED']);
    });

    it('refuses a forbidden Origin when CORS_ORIGINS is set and accepts an allowed one', async () => {
      const server = await startServer({ env: { CORS_ORIGINS: 'http://allowed.test' } });
      expect(await handshake(rawSocket(server, 'http://evil.test'))).to.equal('refused');
      expect(await handshake(rawSocket(server, 'http://allowed.test'))).to.equal('open');
    });
  });
});

describe('the sockets-per-user count stays exact', () => {
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

describe('odd variables never crash a subscription', () => {
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
