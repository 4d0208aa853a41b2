import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import type { ChatEvent } from '../src/chat/events';
import { ConfigError, loadConfig } from '../src/config';
import { gql, ok, newUser, asCompany, type TestUser } from './support/client';
import { groupRoom, send } from './support/factories';
import { REMOVE_MEMBER } from './support/operations';
import { freeClusterPort, startRedisServer, stopProcess } from './support/redis-servers';
import { startServerProcess } from './support/process';
import { startServer, wsClient, type TestServer } from './support/server';
import { webhookReceiver } from './support/webhook-receiver';
import { collect, connects, sleep, waitFor, type Collected } from './support/ws';

const PRESENCE_CHANGED = 'subscription($r: ID!) { presenceChanged(roomId: $r) { online lastSeenAt user { id } } }';
const MEMBERS_PRESENCE = 'query($r: ID!) { room(id: $r) { members(limit: 500) { user { id online lastSeenAt } } } }';

type Presence = { online: boolean; lastSeenAt: string | null };
type PresenceEvent = { presenceChanged: Presence & { user: { id: string } } };

/** What `viewer` sees of each member's presence in `roomId`, by user id. */
async function presenceIn(url: string, viewer: TestUser, roomId: string): Promise<Map<string, Presence>> {
  const data = await ok<{ room: { members: { user: { id: string } & Presence }[] } }>(url, MEMBERS_PRESENCE, { r: roomId }, viewer.token);
  return new Map(data.room.members.map((m) => [m.user.id, { online: m.user.online, lastSeenAt: m.user.lastSeenAt }]));
}

async function presenceOf(url: string, viewer: TestUser, roomId: string, user: TestUser): Promise<Presence> {
  return (await presenceIn(url, viewer, roomId)).get(user.id) as Presence;
}

/** The presence events of `user` a subscription received, oldest first. */
const eventsOf = (sub: Collected<PresenceEvent>, user: TestUser) => sub.data.map((d) => d.presenceChanged).filter((e) => e.user.id === user.id);

/** Subscribes to the room's presence and waits until the subscription hears a probe user coming online. */
async function presenceSubscription(server: TestServer, subscriber: TestUser, roomId: string, probe: TestUser): Promise<Collected<PresenceEvent>> {
  const sub = collect<PresenceEvent>(wsClient(server, subscriber.token), PRESENCE_CHANGED, { r: roomId });
  // graphql-ws does not acknowledge a subscription: a member connecting until one arrives says it is live.
  const deadline = Date.now() + 5000;
  while (!eventsOf(sub, probe).some((e) => e.online)) {
    if (sub.errors.length > 0) throw new Error(`presence subscription refused: ${JSON.stringify(sub.errors)}`);
    if (Date.now() > deadline) throw new Error('the presence subscription never heard the probe');
    const socket = await connects(server, probe.token);
    await sleep(150);
    await socket.dispose();
  }
  return sub;
}

describe('presence', function () {
  this.timeout(60_000);

  describe('on one server (in process)', () => {
    let server: TestServer;
    beforeEach(async () => {
      server = await startServer({ env: { PRESENCE_INTERVAL_MS: '100' } });
    });

    it('a member is online while one authenticated socket of theirs is open, and lastSeenAt is when the last one closed', async () => {
      const owner = await newUser(server.url);
      const member = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [member]);
      expect(await presenceOf(server.url, owner, roomId, member), 'never connected').to.deep.equal({ online: false, lastSeenAt: null });

      const first = await connects(server, member.token);
      const second = await connects(server, member.token);
      const online = await presenceOf(server.url, owner, roomId, member);
      expect(online.online).to.equal(true);
      expect(Math.abs(Date.parse(online.lastSeenAt as string) - Date.now()), 'lastSeenAt is now while online').to.be.below(2000);

      await first.dispose();
      await sleep(200);
      expect((await presenceOf(server.url, owner, roomId, member)).online, 'one socket still open').to.equal(true);

      const beforeClose = Date.now();
      await second.dispose();
      // The close is noticed at once; lastSeenAt is written just after.
      let after = await presenceOf(server.url, owner, roomId, member);
      for (let i = 0; i < 100 && (after.online || after.lastSeenAt === null); i++) {
        await sleep(50);
        after = await presenceOf(server.url, owner, roomId, member);
      }
      expect(after.online).to.equal(false);
      const lastSeen = Date.parse(after.lastSeenAt as string);
      expect(lastSeen, 'lastSeenAt is when the last socket closed').to.be.within(beforeClose - 50, Date.now());
      // An HTTP request is no socket: asking does not make anyone online.
      expect((await presenceOf(server.url, member, roomId, member)).online).to.equal(false);
    });

    it('shows presence only to users who share an active room: false and null to everyone else', async () => {
      const owner = await newUser(server.url);
      const member = await newUser(server.url);
      const leaver = await newUser(server.url);
      const outsider = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [member, leaver], 'Visible');
      const { changes } = await ok<{ changes: { cursor: string } }>(server.url, '{ changes { cursor } }', {}, leaver.token);
      await send(server.url, owner, roomId, 'from the owner');
      await ok(server.url, REMOVE_MEMBER, { r: roomId, u: leaver.id }, owner.token);
      await connects(server, owner.token);
      // The owner's socket closes and opens again: lastSeenAt is set, and hidden all the same.
      const once = await connects(server, member.token);
      await once.dispose();

      const hidden = { online: false, lastSeenAt: null };
      const ownerSeenBy = async (viewer: TestUser, token = viewer.token) => {
        // The room's creator, as a company's rooms list shows it to anyone of the company.
        const data = await ok<{ companyRooms: { items: { id: string; createdBy: { id: string } & Presence }[] } }>(
          server.url,
          '{ companyRooms(pageSize: 100) { items { id createdBy { id online lastSeenAt } } } }',
          {},
          token,
        );
        const room = data.companyRooms.items.find((r) => r.id === roomId);
        return room ? { online: room.createdBy.online, lastSeenAt: room.createdBy.lastSeenAt } : hidden;
      };
      expect((await ownerSeenBy(member)).online, 'a member sees the owner online').to.equal(true);
      expect(await ownerSeenBy(outsider), 'same company, no shared room').to.deep.equal(hidden);
      expect(await ownerSeenBy(leaver), 'removed from the only shared room').to.deep.equal(hidden);
      // The leaver still reads the room's messages up to the removal in the changes feed: their sender's presence stays hidden.
      const feed = await ok<{ changes: { messages: { sender: Presence }[] } }>(
        server.url,
        'query($s: String!) { changes(since: $s) { messages { sender { online lastSeenAt } } } }',
        { s: changes.cursor },
        leaver.token,
      );
      expect(feed.changes.messages.map((m) => m.sender)).to.deep.equal([hidden]);
      // The member's token now names another company: the room is not theirs to see, nor its members' presence.
      const elsewhere = await asCompany(member, 'e5a3f5d4-0000-4000-8000-000000000001');
      expect(await ownerSeenBy(member, elsewhere)).to.deep.equal(hidden);
      // The owner sees the member's lastSeenAt (shared room; written once the member's brief visit is announced).
      let lastSeenAt: string | null = null;
      for (let i = 0; i < 50 && lastSeenAt === null; i++) {
        await sleep(50);
        ({ lastSeenAt } = await presenceOf(server.url, owner, roomId, member));
      }
      expect(lastSeenAt).to.be.a('string');
      // A member removed from the room shares it no more: the owner, listing former members too, sees nothing of them.
      await connects(server, leaver.token);
      const former = await ok<{ room: { members: { user: { id: string } & Presence }[] } }>(
        server.url,
        'query($r: ID!) { room(id: $r) { members(activeOnly: false) { user { id online lastSeenAt } } } }',
        { r: roomId },
        owner.token,
      );
      const leaverSeen = former.room.members.find((m) => m.user.id === leaver.id)?.user;
      expect({ online: leaverSeen?.online, lastSeenAt: leaverSeen?.lastSeenAt }).to.deep.equal(hidden);
      // The outsider, asking about the room, gets nothing of it.
      expect(await gql(server.url, MEMBERS_PRESENCE, { r: roomId }, outsider.token).then((r) => r.errors?.[0].extensions.code)).to.equal('NOT_FOUND');
    });

    it('reads the presence of a whole member list in a constant number of statements', async () => {
      const owner = await newUser(server.url);
      const statementsFor = async (n: number) => {
        const members: TestUser[] = [];
        for (let i = 0; i < n; i++) members.push(await newUser(server.url));
        const roomId = await groupRoom(server.url, owner, members);
        for (const m of members.slice(0, 2)) await connects(server, m.token);
        const res = await gql(server.url, MEMBERS_PRESENCE, { r: roomId }, owner.token);
        expect(res.errors).to.equal(undefined);
        return res.extensions?.sqlStatements;
      };
      const few = await statementsFor(3);
      const many = await statementsFor(30);
      expect(many, `3 members: ${few} statements, 30 members: ${many}`).to.equal(few);
    });

    it('presenceChanged pushes members of the room coming online and going offline, to its active members only', async () => {
      const owner = await newUser(server.url);
      const member = await newUser(server.url);
      const probe = await newUser(server.url);
      const stranger = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [member, probe]);
      // The stranger shares another room with the owner, not this one.
      await groupRoom(server.url, owner, [stranger], 'Elsewhere');
      const sub = await presenceSubscription(server, owner, roomId, probe);

      const socket = await connects(server, member.token);
      await waitFor(() => eventsOf(sub, member).length >= 1, 5000, 'the member coming online');
      await socket.dispose();
      await waitFor(() => eventsOf(sub, member).length >= 2, 5000, 'the member going offline');
      const [on, off] = eventsOf(sub, member);
      expect(on.online).to.equal(true);
      expect(off.online).to.equal(false);
      expect(off.lastSeenAt).to.equal((await presenceOf(server.url, owner, roomId, member)).lastSeenAt);

      const strangerSocket = await connects(server, stranger.token);
      await strangerSocket.dispose();
      await sleep(500);
      expect(eventsOf(sub, stranger), "a user outside the room: none of the room's business").to.deep.equal([]);

      // Removed from the room: their comings and goings are no longer told to it.
      await ok(server.url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token);
      const again = await connects(server, member.token);
      await again.dispose();
      await sleep(500);
      expect(eventsOf(sub, member)).to.have.length(2);
    });

    it('drops an event about a member who left the room before it arrived', async () => {
      const owner = await newUser(server.url);
      const member = await newUser(server.url);
      const probe = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [member, probe]);
      const sub = await presenceSubscription(server, owner, roomId, probe);
      // This server hears presence events late: the member's removal commits between the event's publication and its arrival.
      const seam = server.app.bus as unknown as { deliver(topic: string, event: ChatEvent): void };
      const deliver = seam.deliver.bind(server.app.bus);
      seam.deliver = (topic, event) => (event.kind === 'presence' ? setTimeout(() => deliver(topic, event), 500) : deliver(topic, event));
      await connects(server, member.token);
      await sleep(100);
      await ok(server.url, REMOVE_MEMBER, { r: roomId, u: member.id }, owner.token);
      await sleep(1000);
      expect(eventsOf(sub, member)).to.deep.equal([]);
    });

    it('refuses presenceChanged to a non-member as a room that does not exist, and delivers nothing', async () => {
      const owner = await newUser(server.url);
      const outsider = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, []);
      const sub = collect<PresenceEvent>(wsClient(server, outsider.token), PRESENCE_CHANGED, { r: roomId });
      await waitFor(() => sub.errors.length > 0, 5000, 'the refusal');
      expect(sub.errors.map((e) => e.code)).to.deep.equal(['NOT_FOUND']);
      const bad = collect<PresenceEvent>(wsClient(server, outsider.token), PRESENCE_CHANGED, { r: 'not-a-uuid' });
      await waitFor(() => bad.errors.length > 0, 5000, 'the refusal');
      expect(bad.errors.map((e) => e.code)).to.deep.equal(['BAD_USER_INPUT']);
      await connects(server, owner.token);
      await sleep(300);
      expect(sub.data).to.deep.equal([]);
    });
  });

  it('a user whose socket flaps (100 connects and closes in about a second) costs the room a bounded number of events, not 200, ending offline', async () => {
    const server = await startServer({ env: { PRESENCE_INTERVAL_MS: '1000' } });
    const owner = await newUser(server.url);
    const flapper = await newUser(server.url);
    const probe = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner, [flapper, probe]);
    const sub = await presenceSubscription(server, owner, roomId, probe);

    const started = Date.now();
    // One socket after another, opened and closed 100 times: 200 changes of state.
    for (let i = 0; i < 100; i++) await (await connects(server, flapper.token)).dispose();
    const flapMs = Date.now() - started;
    await sleep(1500);
    const events = eventsOf(sub, flapper);
    // One at once, then at most one per interval (1 s) while the flapping lasts, and the state it ended in.
    const bound = 2 + Math.ceil(flapMs / 1000);
    expect(events.length, `${events.length} events for 100 flaps over ${flapMs} ms`).to.be.within(1, bound);
    expect(events[events.length - 1].online, 'the last event says how it ended').to.equal(false);
    expect((await presenceOf(server.url, owner, roomId, flapper)).online).to.equal(false);
  });

  it('a server shutting down still writes lastSeenAt of a user whose last socket closed within the interval', async () => {
    const server = await startServer({ keep: true, env: { PRESENCE_INTERVAL_MS: '60000' } });
    const owner = await newUser(server.url);
    const member = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner, [member]);
    // Online is told at once; the close, 60 s later at the earliest: it is pending when the server stops.
    await (await connects(server, member.token)).dispose();
    await sleep(200);
    await server.app.stop();
    const next = await startServer();
    expect((await presenceOf(next.url, owner, roomId, member)).lastSeenAt).to.be.a('string');
  });

  it('takes its TTL and interval from the environment, within bounds (a TTL above 60 s would break the promise)', () => {
    expect(loadConfig({}).presence).to.deep.equal({ ttlMs: 30_000, intervalMs: 1000 });
    expect(loadConfig({ PRESENCE_TTL_SECONDS: '60', PRESENCE_INTERVAL_MS: '10' }).presence).to.deep.equal({ ttlMs: 60_000, intervalMs: 10 });
    expect(() => loadConfig({ PRESENCE_TTL_SECONDS: '61' })).to.throw(ConfigError, 'PRESENCE_TTL_SECONDS must be a whole number between 1 and 60, got "61"');
    expect(() => loadConfig({ PRESENCE_TTL_SECONDS: '0' })).to.throw(ConfigError);
    expect(() => loadConfig({ PRESENCE_INTERVAL_MS: '1.5' })).to.throw(ConfigError);
  });

  describe('across servers over Redis', () => {
    let redisUrl: string;
    let redis: Redis;
    let redisServer: ChildProcess;
    const TTL_SECONDS = 2;
    // A Redis of these tests' own: the presence registry they read is theirs alone.
    before(async () => {
      const port = await freeClusterPort();
      redisServer = await startRedisServer(port);
      redisUrl = `redis://127.0.0.1:${port}`;
      redis = new Redis(redisUrl);
      redis.on('error', () => {}); // the last test stops this Redis
    });
    after(async () => {
      redis?.disconnect();
      if (redisServer) await stopProcess(redisServer);
    });
    const env = () => ({ REDIS_URL: redisUrl, PRESENCE_TTL_SECONDS: String(TTL_SECONDS), PRESENCE_INTERVAL_MS: '100' });

    it('online on one server is online on the other, until the last socket on any server closes', async () => {
      const a = await startServer({ env: env() });
      const b = await startServer({ env: env() });
      const owner = await newUser(a.url);
      const member = await newUser(a.url);
      const probe = await newUser(a.url);
      const roomId = await groupRoom(a.url, owner, [member, probe]);
      const sub = await presenceSubscription(b, owner, roomId, probe);

      const onA = await connects(a, member.token);
      await waitFor(() => eventsOf(sub, member).length >= 1, 5000, 'the event from server A at a subscriber of B');
      expect((await presenceOf(b.url, owner, roomId, member)).online, 'B reads A\'s socket').to.equal(true);
      const onB = await connects(b, member.token);
      await onA.dispose();
      await sleep(500);
      expect((await presenceOf(a.url, owner, roomId, member)).online, 'a socket on B remains').to.equal(true);
      expect(eventsOf(sub, member).filter((e) => !e.online), 'no offline while a socket remains anywhere').to.deep.equal([]);
      await onB.dispose();
      await waitFor(() => eventsOf(sub, member).some((e) => !e.online), 5000, 'the offline event');
      const seen = await presenceOf(a.url, owner, roomId, member);
      expect(seen.online).to.equal(false);
      expect(seen.lastSeenAt).to.equal(eventsOf(sub, member).find((e) => !e.online)?.lastSeenAt);
    });

    it("asks Redis once per batch of users, not once per user", async () => {
      const a = await startServer({ env: env() });
      const b = await startServer({ env: env() });
      const owner = await newUser(a.url);
      const members: TestUser[] = [];
      for (let i = 0; i < 20; i++) members.push(await newUser(a.url));
      const roomId = await groupRoom(a.url, owner, members);
      for (const m of members.slice(0, 5)) await connects(a, m.token);
      const calls = async () => {
        const info = await redis.info('commandstats');
        return Number(/cmdstat_smismember:calls=(\d+)/.exec(info)?.[1] ?? 0);
      };
      const before = await calls();
      const seen = await presenceIn(b.url, owner, roomId);
      const asked = (await calls()) - before;
      expect([...seen.values()].filter((p) => p.online)).to.have.length(5);
      // One SMISMEMBER per other live server for the whole list (here: A, and any server of an earlier test still expiring).
      const live = await redis.zrangebyscore('chat:presence:servers', `(${Date.now()}`, '+inf');
      expect(asked, `${asked} SMISMEMBER for 21 users with ${live.length} live servers`).to.be.at.most(live.length - 1);
      expect(asked).to.be.at.least(1);
    });

    it('a server killed with SIGKILL leaves its users online no longer than the TTL: they go offline, announced, lastSeenAt set', async function () {
      this.timeout(90_000);
      const a = await startServer({ env: env() });
      const doomed = await startServerProcess(env());
      const owner = await newUser(a.url);
      const member = await newUser(a.url);
      const probe = await newUser(a.url);
      const roomId = await groupRoom(a.url, owner, [member, probe]);
      const sub = await presenceSubscription(a, owner, roomId, probe);

      await connects(doomed, member.token);
      await waitFor(() => eventsOf(sub, member).some((e) => e.online), 5000, 'the member online on the doomed server');
      expect((await presenceOf(a.url, owner, roomId, member)).online).to.equal(true);

      const killedAt = Date.now();
      await stopProcess(doomed.child, 'SIGKILL');
      // Its entry expires within the TTL of its last beat; A beats every third of it and announces the users.
      const limitMs = TTL_SECONDS * 1000 + (TTL_SECONDS * 1000) / 3 + 1000;
      await waitFor(() => eventsOf(sub, member).some((e) => !e.online), limitMs, 'the offline event after the kill');
      const tookMs = Date.now() - killedAt;
      const offline = eventsOf(sub, member).find((e) => !e.online) as Presence;
      const read = await presenceOf(a.url, owner, roomId, member);
      expect(read.online).to.equal(false);
      expect(read.lastSeenAt, 'lastSeenAt: when the dead server last beat').to.equal(offline.lastSeenAt);
      expect(Date.parse(offline.lastSeenAt as string)).to.be.within(killedAt - TTL_SECONDS * 1000, killedAt);
      expect(tookMs, 'offline within the TTL and one beat').to.be.below(limitMs);
    });

    it("a webhook's push recipients are the members offline on every server, not only on the one delivering", async () => {
      const receiver = await webhookReceiver();
      const hooks = { WEBHOOK_URLS: receiver.url, WEBHOOK_SECRET: 'presence-test-secret', WEBHOOK_SUPERVISE_SECONDS: '1' };
      const a = await startServer({ env: { ...env(), ...hooks } });
      const b = await startServer({ env: env() });
      const sender = await newUser(a.url);
      const elsewhere = await newUser(a.url);
      const away = await newUser(a.url);
      const roomId = await groupRoom(a.url, sender, [elsewhere, away]);
      await connects(b, elsewhere.token);
      for (let i = 0; i < 50 && !(await presenceOf(a.url, sender, roomId, elsewhere)).online; i++) await sleep(50);
      await send(a.url, sender, roomId, 'anyone?');
      await waitFor(() => receiver.ofRoom(roomId).some((h) => h.body.type === 'message.created'), 10_000, 'the message.created event');
      const created = receiver.ofRoom(roomId).find((h) => h.body.type === 'message.created')!;
      expect(created.body.data.offlineMemberIds).to.deep.equal([away.id]);
    });

    it('while Redis is down, presence reads answer at once from what this server knows, and nothing crashes', async () => {
      const a = await startServer({ env: env() });
      const owner = await newUser(a.url);
      const here = await newUser(a.url);
      const roomId = await groupRoom(a.url, owner, [here]);
      await connects(a, here.token);
      await stopProcess(redisServer, 'SIGKILL');
      await sleep(200);
      const started = Date.now();
      const seen = await presenceOf(a.url, owner, roomId, here);
      expect(Date.now() - started, 'no wait for Redis').to.be.below(500);
      expect(seen.online, "this server's own socket").to.equal(true);
      // Sockets still come and go (their events stay in this process, as every event while Redis is away).
      await (await connects(a, owner.token)).dispose();
      expect((await ok<{ me: { id: string } }>(a.url, '{ me { id } }', {}, owner.token)).me.id).to.equal(owner.id);
    });
  });
});
