import net from 'node:net';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../src/config';
import type { Replica } from '../src/db/read-replicas';
import { gql, makeUser, newUser, ok, type TestUser } from './support/client';
import { directRoom, groupRoom, send } from './support/factories';
import { testDatabaseUrl } from './support/hooks';
import { onCleanup, startServer, wsClient, type TestServer } from './support/server';
import { startStandby, type Standby } from './support/standby';
import { collect, sleep, waitFor } from './support/ws';

const HISTORY = `query($roomId: ID!) { messages(roomId: $roomId, limit: 50) { id content sender { id displayName } } }`;
const MEMBERS = `query($id: ID!) { room(id: $id) { members { user { id displayName } } } }`;
const CHANGES = `query($since: String) { changes(since: $since) { cursor messages { id content } } }`;
const MESSAGE_ADDED = `subscription($roomId: ID) { messageAdded(roomId: $roomId) { id content sender { id displayName } room { id name } } }`;
const MESSAGE_ADDED_SINCE = `subscription($roomId: ID, $since: ID) { messageAdded(roomId: $roomId, since: $since) { id content sender { id displayName } } }`;
const SEND_OVER_SOCKET = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id content sender { displayName } } }`;

type History = { messages: { id: string; content: string }[] };

const databaseName = () => new URL(testDatabaseUrl()).pathname.slice(1);

/** The embedded PostgreSQL (no DATABASE_URL) ships no pg_basebackup: the standby tests need a server on DATABASE_URL, as CI has. */
const noStandby = !process.env.DATABASE_URL;

function replicaOf(server: TestServer): Replica {
  const replicas = server.app.db.replicas;
  if (!replicas) throw new Error('the server has no read replicas');
  return replicas.replicas[0];
}

/** Statements sent so far: on the replica, and on the primary (every other one, TypeORM's included). */
function statements(server: TestServer): { replica: number; primary: number } {
  const replica = replicaOf(server).statements;
  return { replica, primary: server.app.db.statements - replica };
}

/** Statements `work` made the server send, by where they went. */
async function sentBy<T>(server: TestServer, work: () => Promise<T>): Promise<{ result: T; replica: number; primary: number }> {
  const before = statements(server);
  const result = await work();
  const after = statements(server);
  return { result, replica: after.replica - before.replica, primary: after.primary - before.primary };
}

/** Bounded: asks `{ me }` as `user` until its read goes to the replica (their own writes replayed, the replica in use). */
async function untilReplicaServes(server: TestServer, user: TestUser, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { replica } = await sentBy(server, () => ok(server.url, '{ me { id } }', {}, user.token));
    if (replica > 0) return;
    if (Date.now() > deadline) throw new Error(`${user.name}'s reads did not reach the replica within ${timeoutMs} ms: ${JSON.stringify(server.app.db.replicas?.status())}`);
    await sleep(50);
  }
}

async function readyReplicas(server: TestServer): Promise<{ status: number; replicas: { state: string; inUse: boolean; lagMs: number | null }[] }> {
  const res = await fetch(server.url.replace('/graphql', '/ready'));
  const body = (await res.json()) as { replicas: { state: string; inUse: boolean; lagMs: number | null }[] };
  return { status: res.status, replicas: body.replicas };
}

const contents = (data: History) => data.messages.map((m) => m.content);

describe('read replicas', function () {
  // Starting a standby is a base backup of the whole test cluster: seconds, not milliseconds.
  this.timeout(120_000);

  describe('configuration', () => {
    it('reads DATABASE_READ_URLS and DATABASE_READ_MAX_LAG_MS, and names what was expected and what came', () => {
      const primary = 'postgres://postgres@db:5432/chat';
      expect(loadConfig({ DATABASE_URL: primary })).to.deep.include({ databaseReadUrls: [], databaseReadMaxLagMs: 1000 });
      expect(
        loadConfig({ DATABASE_URL: primary, DATABASE_READ_URLS: 'postgres://postgres@r1:5432/chat, postgresql://r2/chat', DATABASE_READ_MAX_LAG_MS: '250' }),
      ).to.deep.include({ databaseReadUrls: ['postgres://postgres@r1:5432/chat', 'postgresql://r2/chat'], databaseReadMaxLagMs: 250 });
      expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_READ_URLS: 'postgres://r1/chat,mysql://app:secret@r2/chat' })).to.throw(
        ConfigError,
        'DATABASE_READ_URLS must be postgres://host:port/database URLs separated by commas; item 2 is "mysql://app:***@r2/chat"',
      );
      expect(() => loadConfig({ DATABASE_READ_URLS: 'postgres://r1/chat' })).to.throw(ConfigError, /DATABASE_READ_URLS needs DATABASE_URL/);
      expect(() => loadConfig({ DATABASE_URL: primary, DATABASE_READ_MAX_LAG_MS: '1s' })).to.throw(
        ConfigError,
        'DATABASE_READ_MAX_LAG_MS must be a whole number of milliseconds between 1 and 600000, got "1s"',
      );
    });
  });

  describe('with a streaming standby', () => {
    let standby: Standby;

    before(async function () {
      if (noStandby) this.skip();
      standby = await startStandby(testDatabaseUrl());
      await standby.caughtUp();
    });

    after(async () => {
      await standby?.stop();
    });

    // A bound far above anything a test waits: on a starved machine the measured lag can pass 1 s, and only the lag test is about it.
    const replicaServer = (env: Record<string, string> = {}) =>
      startServer({ env: { DATABASE_READ_URLS: standby.url(databaseName()), DATABASE_READ_MAX_LAG_MS: '600000', ...env } });

    /** The standby stops replaying until the test ends. */
    const pauseUntilTheEnd = async () => {
      await standby.pause();
      onCleanup(() => standby.resume());
    };

    it("sends a query's statements to the replica, and a mutation's, a transaction's and the watermark of now to the primary", async () => {
      const server = await replicaServer();
      const owner = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner);
      for (const content of ['one', 'two', 'three']) await send(server.url, owner, roomId, content);
      await untilReplicaServes(server, owner);

      const history = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, owner.token));
      expect(contents(history.result)).to.deep.equal(['three', 'two', 'one']);
      expect(history, 'a history page: its one statement on the replica').to.deep.include({ replica: 1, primary: 0 });

      const mutation = await sentBy(server, () => send(server.url, owner, roomId, 'four'));
      expect(mutation.replica, 'a send').to.equal(0);
      expect(mutation.primary).to.be.greaterThan(0);
      // createGroupChat is a transaction (room, members, users known).
      const transaction = await sentBy(server, () => groupRoom(server.url, owner, [], 'Another'));
      expect(transaction.replica, 'a transaction').to.equal(0);
      expect(transaction.primary).to.be.greaterThan(2);

      await untilReplicaServes(server, owner);
      // changes without `since` reads the watermark of now, on the primary (a standby's is as old as its replay).
      const changes = await sentBy(server, () => ok(server.url, CHANGES, {}, owner.token));
      expect(changes, 'the watermark of now').to.deep.include({ replica: 0, primary: 1 });

      const ready = await readyReplicas(server);
      expect(ready.status).to.equal(200);
      expect(ready.replicas).to.have.length(1);
      expect(ready.replicas[0]).to.deep.include({ state: 'replaying', inUse: true });
    });

    it('reads the hand-tuned statements of every query kind on the replica; TypeORM API reads stay on the primary', async () => {
      const server = await replicaServer();
      const owner = await newUser(server.url);
      const member = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [member]);
      const root = await send(server.url, owner, roomId, 'walrus hello');
      await send(server.url, member, roomId, 'a reply', { parentId: root.id });
      await untilReplicaServes(server, owner);
      const since = (await ok<{ changes: { cursor: string } }>(server.url, CHANGES, {}, owner.token)).changes.cursor;
      await send(server.url, member, roomId, 'after the cursor');
      await standby.caughtUp();
      await untilReplicaServes(server, owner);

      const queries: Record<string, [string, Record<string, unknown>]> = {
        history: [HISTORY, { roomId }],
        inbox: [`{ rooms(pageSize: 10) { total items { id lastMessage { content sender { displayName } } unreadCount memberCount } } }`, {}],
        search: [`query($q: String!) { searchMessages(query: $q) { snippet message { id } } }`, { q: 'walrus' }],
        thread: [`query($p: ID!) { thread(parentId: $p) { id content } }`, { p: root.id }],
        changes: [CHANGES, { since }],
        message: [`query($id: ID!) { message(id: $id) { id content } }`, { id: root.id }],
        room: [MEMBERS, { id: roomId }],
      };
      const where: Record<string, { replica: number; primary: number }> = {};
      for (const [name, [query, variables]] of Object.entries(queries)) {
        const { replica, primary } = await sentBy(server, () => ok(server.url, query, variables, owner.token));
        where[name] = { replica, primary };
      }
      // Every one of these reads the replica alone: none of them uses TypeORM's API (which runs on the primary).
      for (const [name, counts] of Object.entries(where)) {
        expect(counts.replica, `${name}: ${JSON.stringify(where)}`).to.be.greaterThan(0);
        expect(counts.primary, `${name}: ${JSON.stringify(where)}`).to.equal(0);
      }

      // These start with a read through TypeORM's API (the primary): the rest of the request follows it there,
      // so no statement after it sees an older state (directChat's visibility check after its room look-up).
      await directRoom(server.url, owner, member);
      await standby.caughtUp();
      await untilReplicaServes(server, owner);
      const typeOrm: Record<string, [string, Record<string, unknown>]> = {
        directChat: [`query($u: ID!) { directChat(userId: $u) { id type } }`, { u: member.id }],
        companyRooms: [`{ companyRooms(pageSize: 10) { total items { id name } } }`, {}],
      };
      for (const [name, [query, variables]] of Object.entries(typeOrm)) {
        const { result, replica, primary } = await sentBy(server, () => ok<Record<string, unknown>>(server.url, query, variables, owner.token));
        expect(result[name], name).to.not.equal(null);
        expect({ replica, primary: primary > 0 }, name).to.deep.equal({ replica: 0, primary: true });
      }
    });

    it("shows a user their own write at once, from the primary, while the replica has not replayed it; then reads them the replica again", async () => {
      // The bound is far above the pause: the replica stays in use for others, which is what this test is about.
      const server = await replicaServer();
      const writer = await newUser(server.url);
      const reader = await newUser(server.url);
      const roomId = await groupRoom(server.url, writer, [reader]);
      await send(server.url, writer, roomId, 'before');
      await untilReplicaServes(server, writer);
      await untilReplicaServes(server, reader);

      await pauseUntilTheEnd();
      await send(server.url, writer, roomId, 'mine');
      const own = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, writer.token));
      expect(contents(own.result), "the writer's read right after the write").to.deep.equal(['mine', 'before']);
      expect(own.replica, "the writer's read").to.equal(0);
      // Rounds of polls later the replica answers, but has not replayed the write: still the primary for the writer.
      await sleep(500);
      const polled = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, writer.token));
      expect(contents(polled.result), "the writer's read 500 ms later").to.deep.equal(['mine', 'before']);
      expect(polled.replica).to.equal(0);
      // The replica really is behind: a user who did not write is still served from it, without the message.
      const other = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, reader.token));
      expect(other.replica, "another user's read").to.equal(1);
      expect(contents(other.result)).to.deep.equal(['before']);

      await standby.resume();
      await untilReplicaServes(server, writer);
      const later = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, writer.token));
      expect(later.replica).to.equal(1);
      expect(contents(later.result)).to.deep.equal(['mine', 'before']);
    });

    it("counts a token's claims, written on a user's first request, as that user's write", async () => {
      const server = await replicaServer();
      const owner = await newUser(server.url);
      // Named before their first request: their row has no name yet.
      const newcomer = await makeUser({ name: 'Newcomer' });
      const roomId = await groupRoom(server.url, owner, []);
      await ok(server.url, `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`, { r: roomId, u: [newcomer.id] }, owner.token);
      await standby.caughtUp();
      await untilReplicaServes(server, owner);

      await pauseUntilTheEnd();
      // The newcomer's first request writes their name, then reads the members (their own row among them).
      const first = await sentBy(server, () => ok<{ room: { members: { user: { id: string; displayName: string | null } }[] } }>(server.url, MEMBERS, { id: roomId }, newcomer.token));
      const me = first.result.room.members.find((m) => m.user.id === newcomer.id);
      expect(me?.user.displayName).to.equal('Newcomer');
      expect(first.replica).to.equal(0);
      // Rounds of polls later: still the primary for them (the paused replica never replayed their row).
      await sleep(500);
      const later = await sentBy(server, () => ok<{ room: { members: { user: { id: string; displayName: string | null } }[] } }>(server.url, MEMBERS, { id: roomId }, newcomer.token));
      expect(later.replica).to.equal(0);
      expect(later.result.room.members.find((m) => m.user.id === newcomer.id)?.user.displayName).to.equal('Newcomer');
      // The owner did not write since: the replica (without the name) serves them.
      const owners = await sentBy(server, () => ok<{ room: { members: { user: { id: string; displayName: string | null } }[] } }>(server.url, MEMBERS, { id: roomId }, owner.token));
      expect(owners.replica).to.be.greaterThan(0);
      expect(owners.result.room.members.find((m) => m.user.id === newcomer.id)?.user.displayName).to.equal(null);
    });

    it('stops reading a replica that lags beyond DATABASE_READ_MAX_LAG_MS (reads go to the primary, /ready stays 200) and reads it again once it caught up', async () => {
      // The default bound (1 s): a tighter one flaps on a machine whose cluster other work keeps busy.
      const server = await replicaServer({ DATABASE_READ_MAX_LAG_MS: '1000' });
      const writer = await newUser(server.url);
      const reader = await newUser(server.url);
      const roomId = await groupRoom(server.url, writer, [reader]);
      await untilReplicaServes(server, reader);
      const replicas = server.app.db.replicas!;

      await pauseUntilTheEnd();
      // The primary moves on (someone else writes); the paused replica does not.
      await send(server.url, writer, roomId, 'while paused');
      await waitFor(() => replicas.status()[0].state === 'lagging', 5_000, 'the replica to be reported lagging');
      const lagging = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, reader.token));
      expect(lagging.replica, 'a read while the replica lags').to.equal(0);
      expect(contents(lagging.result)).to.deep.equal(['while paused']);
      const ready = await readyReplicas(server);
      expect(ready.status, 'a lagging replica leaves the server ready').to.equal(200);
      expect(ready.replicas[0]).to.deep.include({ state: 'lagging', inUse: false });
      expect(ready.replicas[0].lagMs).to.be.greaterThan(1_000);

      await standby.resume();
      // Bounded: the first history read that goes to the replica again shows what it replayed.
      let back = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, reader.token));
      for (let i = 0; i < 200 && back.replica === 0; i++) {
        await sleep(50);
        back = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, reader.token));
      }
      expect(back).to.deep.include({ replica: 1, primary: 0 });
      expect(contents(back.result)).to.deep.equal(['while paused']);
      expect((await readyReplicas(server)).replicas[0]).to.deep.include({ state: 'replaying', inUse: true });
    });

    it('never reads the replica for subscription events or their replays; a mutation over the socket is its user\'s write', async () => {
      const server = await replicaServer();
      const owner = await newUser(server.url);
      const member = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [member]);
      await untilReplicaServes(server, member);

      const before = statements(server);
      const client = wsClient(server, member.token);
      const live = collect<{ messageAdded: { content: string } }>(client, MESSAGE_ADDED, { roomId });
      await sleep(200);
      const sent = [];
      for (const content of ['a', 'b', 'c']) sent.push(await send(server.url, owner, roomId, content));
      await waitFor(() => live.data.length === 3, 5_000, 'three events');
      const replay = collect<{ messageAdded: { content: string } }>(client, MESSAGE_ADDED_SINCE, { roomId, since: sent[0].id });
      await waitFor(() => replay.data.length === 2, 5_000, 'the replay of b and c');
      expect(live.data.map((d) => d.messageAdded.content)).to.deep.equal(['a', 'b', 'c']);
      expect(replay.data.map((d) => d.messageAdded.content)).to.deep.equal(['b', 'c']);
      expect(statements(server).replica - before.replica, 'statements on the replica').to.equal(0);
      expect(statements(server).primary - before.primary).to.be.greaterThan(0);

      // Both users' last writes replayed before the pause: the owner's reads may then come from the paused replica.
      await untilReplicaServes(server, member);
      await untilReplicaServes(server, owner);
      await pauseUntilTheEnd();
      await new Promise<void>((resolve, reject) => {
        client.subscribe({ query: SEND_OVER_SOCKET, variables: { input: { roomId, content: 'over the socket' } } }, { next: () => {}, error: reject, complete: resolve });
      });
      // The member's HTTP reads, rounds of polls later, show their socket write (from the primary); the owner's still come from
      // the paused replica.
      await sleep(500);
      const own = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, member.token));
      expect(own.replica).to.equal(0);
      expect(contents(own.result)[0]).to.equal('over the socket');
      const other = await sentBy(server, () => ok<History>(server.url, HISTORY, { roomId }, owner.token));
      expect(other.replica).to.equal(1);
      expect(contents(other.result)[0]).to.equal('c');
    });

    it('pages changes on the replica from a cursor of the primary, missing nothing', async () => {
      const server = await replicaServer();
      const owner = await newUser(server.url);
      const member = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [member]);
      await send(server.url, owner, roomId, 'first');
      await standby.caughtUp();
      await untilReplicaServes(server, member);

      const { cursor } = (await ok<{ changes: { cursor: string } }>(server.url, CHANGES, {}, member.token)).changes;
      const sent = await send(server.url, owner, roomId, 'after the cursor');
      await standby.caughtUp();
      await untilReplicaServes(server, member);
      const page = await sentBy(server, () => ok<{ changes: { messages: { id: string }[] } }>(server.url, CHANGES, { since: cursor }, member.token));
      expect(page.replica, 'the page itself is read on the replica').to.be.greaterThan(0);
      expect(page.result.changes.messages.map((m) => m.id)).to.deep.equal([sent.id]);
    });

    it('sends a read that fails on the replica (its connection lost mid-statement) to the primary: the request succeeds', async () => {
      const proxy = await cuttableProxy(standby.port);
      onCleanup(() => proxy.close());
      const viaProxy = new URL(standby.url(databaseName()));
      viaProxy.port = String(proxy.port);
      const server = await startServer({ env: { DATABASE_READ_URLS: viaProxy.toString(), DATABASE_READ_MAX_LAG_MS: '600000' } });
      const owner = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner);
      await send(server.url, owner, roomId, 'still here');
      await untilReplicaServes(server, owner);

      proxy.dropNextStatement();
      const res = await sentBy(server, () => gql<History>(server.url, HISTORY, { roomId }, owner.token));
      expect(res.result.errors).to.equal(undefined);
      expect(res.result.status).to.equal(200);
      expect(contents(res.result.data as History)).to.deep.equal(['still here']);
      expect(proxy.dropped(), 'statements cut on their way to the replica').to.equal(1);
      expect(replicaOf(server).fallbacks).to.equal(1);
      // Sent to the replica (cut), then to the primary.
      expect(res).to.deep.include({ replica: 1, primary: 1 });
      // The replica is back in use once its next poll answers.
      await untilReplicaServes(server, owner);
    });
  });

  it('keeps answering when the standby is killed mid-run: its reads go to the primary, /ready stays 200', async function () {
    if (noStandby) this.skip();
    const standby = await startStandby(testDatabaseUrl());
    onCleanup(() => standby.stop());
    await standby.caughtUp();
    const server = await startServer({ env: { DATABASE_READ_URLS: standby.url(databaseName()), DATABASE_READ_MAX_LAG_MS: '600000' } });
    const readers = await Promise.all(Array.from({ length: 4 }, () => newUser(server.url)));
    const roomId = await groupRoom(server.url, readers[0], readers.slice(1));
    await send(server.url, readers[0], roomId, 'kept');
    await standby.caughtUp();
    for (const reader of readers) await untilReplicaServes(server, reader);

    let stop = false;
    const outcomes = { ok: 0, failed: [] as string[] };
    const load = Promise.all(
      readers.map(async (reader) => {
        // Bounded: at most 2,000 requests per reader.
        for (let i = 0; i < 2_000 && !stop; i++) {
          const res = await gql<History>(server.url, HISTORY, { roomId }, reader.token);
          if (res.status === 200 && !res.errors && contents(res.data as History)[0] === 'kept') outcomes.ok += 1;
          else outcomes.failed.push(`${res.status} ${JSON.stringify(res.errors)}`);
        }
      }),
    );
    await sleep(700);
    const beforeKill = statements(server).replica;
    await standby.kill();
    await sleep(1_500);
    const afterKill = statements(server);
    await sleep(1_000);
    stop = true;
    await load;

    expect(beforeKill, 'reads on the replica before the kill').to.be.greaterThan(10);
    expect(outcomes.failed, 'requests that failed').to.deep.equal([]);
    expect(outcomes.ok).to.be.greaterThan(50);
    expect(statements(server).replica - afterKill.replica, 'replica statements long after the kill').to.equal(0);
    expect(statements(server).primary - afterKill.primary, 'reads went to the primary').to.be.greaterThan(10);
    const ready = await readyReplicas(server);
    expect(ready.status).to.equal(200);
    expect(ready.replicas[0]).to.deep.include({ state: 'down', inUse: false });
  });
});

/**
 * A TCP proxy in front of the standby that can cut the connection of the next
 * statement of the server's read pool (its startup packet names application_name
 * chat-api; the replica polls' connections are left alone).
 */
async function cuttableProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let cutNext = false;
  let dropped = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    let reads: boolean | null = null;
    client.on('data', (chunk: Buffer) => {
      if (reads === null) reads = chunk.includes(Buffer.from('application_name\0chat-api\0'));
      // A Parse or Bind message (extended protocol): the server sends a statement; cut it on its way.
      else if (reads && cutNext && (chunk[0] === 0x50 || chunk[0] === 0x42)) {
        cutNext = false;
        dropped += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    dropNextStatement: () => {
      cutNext = true;
    },
    dropped: () => dropped,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
