import { expect } from 'chai';
import type { ChatEvent } from '../src/chat/events';
import type { EventBus } from '../src/realtime/event-bus';
import { roomTopic } from '../src/realtime/topics';
import { ok, type TestUser, newUser } from './support/client';
import { groupRoom, send } from './support/factories';
import { redisCluster, type LocalRedisCluster } from './support/redis-servers';
import { startServer, wsClient, type TestServer } from './support/server';
import { collect, ready, sleep, waitFor, type Collected } from './support/ws';
import { ADD_MEMBERS, EDIT, REMOVE_MEMBER } from './support/operations';

const NO_RATE_LIMIT = { MESSAGE_RATE_LIMIT: '100000/10', EDIT_RATE_LIMIT: '100000/10', ROOM_RATE_LIMIT: '100000/10', MEMBER_RATE_LIMIT: '100000/10' };

interface Msg {
  id: string;
  seq: number;
  content: string | null;
  room: { id: string };
}
type Added = { messageAdded: Msg };
type Updated = { messageUpdated: { id: string; content: string | null } };
type Membership = { membershipChanged: { kind: string; room: { id: string }; member: { user: { id: string } } } };

const MESSAGE_ADDED = `subscription($roomId: ID, $since: ID) { messageAdded(roomId: $roomId, since: $since) { id seq content room { id } } }`;
const MESSAGE_UPDATED = `subscription { messageUpdated { id content } }`;
const MEMBERSHIP_CHANGED = `subscription { membershipChanged { kind room { id } member { user { id } } } }`;

async function users(server: TestServer, n: number): Promise<TestUser[]> {
  const list: TestUser[] = [];
  for (let i = 0; i < n; i++) list.push(await newUser(server.url));
  return list;
}

const contents = (sub: Collected<Added>) => sub.data.map((d) => d.messageAdded.content ?? '');
const count = <T>(list: T[], value: T) => list.filter((v) => v === value).length;

/**
 * The server hears of membership changes late: events on user topics reach its
 * listeners `ms` after they arrive, so the messages sent right after an add
 * arrive before its streams follow the new room (the race, made certain).
 */
function hearMembershipsLate(bus: EventBus, ms: number): void {
  const seam = bus as unknown as { deliver(topic: string, event: ChatEvent): void };
  const deliver = seam.deliver.bind(bus);
  seam.deliver = (topic, event) => {
    if (topic.startsWith('chat:user:')) setTimeout(() => deliver(topic, event), ms);
    else deliver(topic, event);
  };
}

describe('scale-out over a Redis Cluster: an event costs what its audience costs', function () {
  this.timeout(60_000);
  let cluster: LocalRedisCluster;
  before(async function () {
    this.timeout(60_000);
    cluster = await redisCluster();
  });
  const serve = () => startServer({ env: { ...cluster.env, ...NO_RATE_LIMIT } });
  const received = (server: TestServer) => server.app.bus.stats.received;

  it('three servers: each receives the events of exactly the rooms its own subscribers watch, and drops a room when its last subscriber goes', async () => {
    const servers = [await serve(), await serve(), await serve()];
    const [a, b, c] = servers;
    const [owner, x, y, z] = await users(a, 4);
    const rooms = {
      X: await groupRoom(a.url, owner, [x]),
      Y: await groupRoom(a.url, owner, [y]),
      Z: await groupRoom(a.url, owner, [z]),
      // Nobody anywhere watches W.
      W: await groupRoom(a.url, owner, []),
    };
    const xOnA = collect<Added>(wsClient(a, x.token), MESSAGE_ADDED, { roomId: rooms.X });
    const yOnB = collect<Added>(wsClient(b, y.token), MESSAGE_ADDED, { roomId: rooms.Y });
    const zOnC = collect<Added>(wsClient(c, z.token), MESSAGE_ADDED, { roomId: rooms.Z });
    const xOnC = collect<Added>(wsClient(c, x.token), MESSAGE_ADDED, { roomId: rooms.X });
    await ready([xOnA, xOnC], () => send(b.url, owner, rooms.X, 'probe'));
    await ready([yOnB], () => send(c.url, owner, rooms.Y, 'probe'));
    await ready([zOnC], () => send(a.url, owner, rooms.Z, 'probe'));
    await sleep(300);

    const before = servers.map(received);
    for (let i = 0; i < 5; i++) {
      for (const [name, roomId] of Object.entries(rooms)) await send(servers[i % 3].url, owner, roomId, `${name}${i}`);
    }
    const expected = (name: string) => [0, 1, 2, 3, 4].map((i) => `${name}${i}`);
    const live = (sub: Collected<Added>) => contents(sub).filter((content) => content !== 'probe');
    await waitFor(() => live(xOnA).length === 5 && live(yOnB).length === 5 && live(zOnC).length === 5 && live(xOnC).length === 5, 10_000, 'every message');
    await sleep(300);

    // A watches X; B watches Y; C watches X and Z. W reaches nobody.
    expect(servers.map((server, i) => received(server) - before[i])).to.deep.equal([5, 5, 10]);
    expect({ xOnA: live(xOnA), yOnB: live(yOnB), zOnC: live(zOnC), xOnC: live(xOnC) }).to.deep.equal({
      xOnA: expected('X'),
      yOnB: expected('Y'),
      zOnC: expected('Z'),
      xOnC: expected('X'),
    });
    // On the cluster: X's channel is subscribed by two servers, Y's and Z's by one, W's by none.
    const channels = [rooms.X, rooms.Y, rooms.Z, rooms.W].map(roomTopic);
    expect(await Promise.all(channels.map((channel) => cluster.subscribers(channel)))).to.deep.equal([2, 1, 1, 0]);

    // A's only subscriber leaves: A lets the channel go and receives nothing more of X.
    xOnA.stop();
    await waitFor(() => a.app.bus.topicCount === 0, 5000, 'server A to drop the topic');
    for (let i = 0; i < 50 && (await cluster.subscribers(roomTopic(rooms.X))) !== 1; i++) await sleep(50);
    expect(await cluster.subscribers(roomTopic(rooms.X))).to.equal(1);
    const aBefore = received(a);
    await send(b.url, owner, rooms.X, 'after A left');
    await waitFor(() => contents(xOnC).includes('after A left'), 5000, 'C to receive');
    await sleep(200);
    expect(received(a)).to.equal(aBefore);
  });

  it('in one server, an event reaches only the subscriptions watching its room, however many watch others', async () => {
    const server = await serve();
    const [owner, member] = await users(server, 2);
    const quiet = await groupRoom(server.url, owner, [member]);
    const busy = await groupRoom(server.url, owner, [member]);
    const socket = wsClient(server, member.token);
    const others = Array.from({ length: 40 }, () => collect<Added>(socket, MESSAGE_ADDED, { roomId: quiet }));
    const watchers = [collect<Added>(socket, MESSAGE_ADDED, { roomId: busy }), collect<Added>(socket, MESSAGE_ADDED, { roomId: busy })];
    await ready(others, () => send(server.url, owner, quiet, 'probe'));
    await ready(watchers, () => send(server.url, owner, busy, 'probe'));
    await sleep(300);

    const before = server.app.bus.stats.dispatched;
    await send(server.url, owner, busy, 'for two');
    await waitFor(() => watchers.every((w) => contents(w).includes('for two')), 5000, 'both watchers');
    await sleep(200);
    expect(server.app.bus.stats.dispatched - before).to.equal(2);
  });

  it('the all-rooms streams follow a user into rooms they enter and out of rooms they leave: nothing missed, nothing doubled, nothing from outside', async () => {
    const [a, b, c] = [await serve(), await serve(), await serve()];
    hearMembershipsLate(a.app.bus, 300);
    const [alice, bob, carol, dave] = await users(a, 4);
    const bobOnA = wsClient(a, bob.token);
    const added = collect<Added>(bobOnA, MESSAGE_ADDED);
    const updated = collect<Updated>(bobOnA, MESSAGE_UPDATED);
    const membership = collect<Membership>(bobOnA, MEMBERSHIP_CHANGED);
    const home = await groupRoom(b.url, alice, [bob]);
    await ready([added], () => send(b.url, alice, home, 'probe'));
    await ready([updated], async () => ok(b.url, EDIT, { id: (await send(b.url, alice, home, 'probe to edit')).id, c: 'probe edited' }, alice.token).then((d) => d.editMessage), (d, id) => d.messageUpdated.id === id);

    const rounds = 5;
    const expectedAdded: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const room = await groupRoom(b.url, alice, [carol], `round ${round}`);
      const early = await send(c.url, carol, room, `before the add ${round}`);
      await ok(b.url, ADD_MEMBERS, { r: room, u: [bob.id] }, alice.token);
      // Right after the add: server A has not heard of it yet.
      for (let i = 0; i < 3; i++) expectedAdded.push((await send(c.url, carol, room, `after the add ${round}.${i}`)).content ?? '');
      await ok(c.url, EDIT, { id: early.id, c: `edited after the add ${round}` }, carol.token);
      await ok(b.url, ADD_MEMBERS, { r: room, u: [dave.id] }, alice.token);
      await waitFor(
        () =>
          contents(added).includes(`after the add ${round}.2`) &&
          updated.data.some((d) => d.messageUpdated.content === `edited after the add ${round}`) &&
          membership.data.some((d) => d.membershipChanged.room.id === room && d.membershipChanged.member.user.id === dave.id),
        10_000,
        `round ${round} to reach bob`,
      );
      await ok(b.url, REMOVE_MEMBER, { r: room, u: bob.id }, alice.token);
      await send(c.url, carol, room, `after the removal ${round}`);
      // Bob's other rooms flow on.
      expectedAdded.push((await send(b.url, alice, home, `home ${round}`)).content ?? '');
    }
    await waitFor(() => contents(added).includes(`home ${rounds - 1}`), 10_000, 'the last message');
    await sleep(800);

    expect(added.errors).to.deep.equal([]);
    const live = contents(added).filter((content) => !content.startsWith('probe'));
    expect(live).to.have.members(expectedAdded);
    expect(live).to.have.length(expectedAdded.length);
    expect(live.filter((content) => content.startsWith('before the add') || content.startsWith('after the removal'))).to.deep.equal([]);
    for (let round = 0; round < rounds; round++) {
      const edits = updated.data.filter((d) => d.messageUpdated.content === `edited after the add ${round}`);
      expect(edits, `round ${round}: the edit once`).to.have.length(1);
    }
    const kinds = membership.data.filter((d) => d.membershipChanged.room.id !== home).map((d) => `${d.membershipChanged.kind} ${d.membershipChanged.member.user.id === bob.id ? 'bob' : d.membershipChanged.member.user.id === dave.id ? 'dave' : 'other'}`);
    expect(count(kinds, 'ADDED bob'), 'own ADDED once a round').to.equal(rounds);
    expect(count(kinds, 'REMOVED bob'), 'own REMOVED once a round').to.equal(rounds);
    expect(count(kinds, 'ADDED dave'), "dave's ADDED once a round").to.equal(rounds);
    // The rooms bob left are let go: server A watches his own topic and his home room, nothing else.
    expect(a.app.bus.topicCount).to.equal(2);
  });

  it('loses and doubles nothing while subscribers come and go: a server that loses its last subscriber of a room and regains it resumes with since', async () => {
    const servers = [await serve(), await serve(), await serve()];
    const [a, b, c] = servers;
    const [alice, bob, carol] = await users(a, 3);
    const room = await groupRoom(a.url, alice, [bob, carol]);
    const steady = collect<Added>(wsClient(b, bob.token), MESSAGE_ADDED, { roomId: room });
    await ready([steady], () => send(a.url, alice, room, 'probe'));

    const total = 120;
    let sending = true;
    let cycles = 0;
    const sent = (async () => {
      for (let i = 0; i < total; i++) {
        await send(servers[i % 3].url, alice, room, `m${i}`);
        // Paced by carol: at least one of her comings and goings per 15 messages, however fast the sends are.
        if (i % 15 === 14) await waitFor(() => cycles >= (i + 1) / 15, 10_000, 'carol to come and go');
      }
      sending = false;
    })();
    // Carol on C comes and goes; C has no other subscriber of the room, so its channel goes and comes back with her.
    const carolSaw: string[] = [];
    let last = steady.data[steady.data.length - 1].messageAdded.id;
    const carolOnC = wsClient(c, carol.token);
    for (;;) {
      const finishing = !sending;
      const sub = collect<Added>(carolOnC, MESSAGE_ADDED, { roomId: room, since: last });
      if (finishing) await waitFor(() => carolSaw.length + sub.data.length >= total, 10_000, 'carol to catch up');
      else await sleep(30 + Math.random() * 120);
      sub.stop();
      expect(sub.errors).to.deep.equal([]);
      for (const d of sub.data) if (d.messageAdded.content !== 'probe') carolSaw.push(d.messageAdded.content ?? '');
      if (sub.data.length > 0) last = sub.data[sub.data.length - 1].messageAdded.id;
      cycles += 1;
      if (finishing) break;
      await sleep(Math.random() * 50);
    }
    await sent;
    await waitFor(() => contents(steady).filter((content) => content !== 'probe').length >= total, 10_000, 'the steady subscriber to get everything');
    await sleep(200);

    const all = Array.from({ length: total }, (_, i) => `m${i}`);
    expect(cycles).to.be.at.least(total / 15);
    expect(contents(steady).filter((content) => content !== 'probe')).to.deep.equal(all);
    expect(carolSaw).to.deep.equal(all);
    // Carol has gone for good: C lets the channel go.
    await waitFor(() => c.app.bus.topicCount === 0, 5000, 'server C to drop the topic');
    for (let i = 0; i < 50 && (await cluster.subscribers(roomTopic(room))) !== 1; i++) await sleep(50);
    expect(await cluster.subscribers(roomTopic(room))).to.equal(1);
  });

  it('a shard restarting: the rooms of the other shards flow on, writes are still acknowledged, its rooms flow again once it is back', async function () {
    this.timeout(120_000);
    const [a, b] = [await serve(), await serve()];
    const [alice, bob] = await users(a, 2);
    // A room on each shard.
    const roomOf = new Map<number, string>();
    for (let i = 0; roomOf.size < cluster.ports.length; i++) {
      if (i > 60) throw new Error('could not place a room on every shard');
      const room = await groupRoom(b.url, alice, [bob]);
      const shard = await cluster.shardOf(roomTopic(room));
      if (!roomOf.has(shard)) roomOf.set(shard, room);
    }
    const bobOnA = wsClient(a, bob.token);
    const subs = new Map([...roomOf.values()].map((room) => [room, collect<Added>(bobOnA, MESSAGE_ADDED, { roomId: room })]));
    for (const [room, sub] of subs) await ready([sub], () => send(b.url, alice, room, 'probe'));

    const [victim, ...others] = [...roomOf.keys()];
    const victimRoom = roomOf.get(victim) as string;
    const lastBefore = subs.get(victimRoom)!.data.at(-1)!.messageAdded.id;
    await cluster.kill(victim);
    try {
      for (const shard of others) {
        const room = roomOf.get(shard) as string;
        await send(b.url, alice, room, 'while a shard is down');
        await waitFor(() => contents(subs.get(room)!).includes('while a shard is down'), 10_000, `a room on the live shard ${shard}`);
      }
      // The write is acknowledged and stored; only its live event is lost.
      const during = await send(b.url, alice, victimRoom, 'during the outage');
      const stored = await ok(b.url, `query($id: ID!) { message(id: $id) { content room { id } } }`, { id: during.id }, alice.token);
      expect(stored.message).to.deep.equal({ content: 'during the outage', room: { id: victimRoom } });
    } finally {
      await cluster.restart(victim);
    }

    let back = false;
    for (let i = 0; i < 40 && !back; i++) {
      const message = await send(b.url, alice, victimRoom, `after the restart ${i}`);
      for (let j = 0; j < 10 && !back; j++) {
        await sleep(50);
        back = subs.get(victimRoom)!.data.some((d) => d.messageAdded.id === message.id);
      }
    }
    expect(back, 'events of the restarted shard flow again').to.equal(true);
    // What its outage cost is caught up with `since`.
    const catchUp = collect<Added>(bobOnA, MESSAGE_ADDED, { roomId: victimRoom, since: lastBefore });
    await waitFor(() => contents(catchUp).includes('during the outage'), 5000, 'the catch-up');
  });
});
