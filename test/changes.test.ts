import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { signToken } from '../src/auth/token';
import { comparePositions } from '../src/chat/changes/versions';
import { errorCode, gql, ok, type TestUser, newUser } from './support/client';
import { groupRoom, send, staffedRoom } from './support/factories';
import { startServer, TEST_JWT_SECRET, wsClient, type TestServer } from './support/server';
import { collect, sleep, waitFor } from './support/ws';
import { ADD_REACTION, DELETE, EDIT, REMOVE_REACTION } from './support/operations';

/** What a client keeps of a message: enough to compare its state with the server's. */
const STATE = 'id seq content isDeleted editedAt version reactions { reaction count } room { id }';
type State = { id: string; seq: number; content: string | null; isDeleted: boolean; editedAt: string | null; version: string; reactions: { reaction: string; count: number }[]; room: { id: string } };

const CHANGES = `query($since: String, $limit: Int) {
  changes(since: $since, limit: $limit) { cursor hasMore messages { ${STATE} } memberships { id isActive role room { id } } }
}`;
const HISTORY = `query($r: ID!) { messages(roomId: $r, limit: 200, includeDeleted: true) { ${STATE} } }`;

interface Batch {
  cursor: string;
  hasMore: boolean;
  messages: State[];
  memberships: { id: string; isActive: boolean; role: string; room: { id: string } }[];
}

async function changes(server: TestServer, user: TestUser, since: string | null, limit = 200): Promise<Batch> {
  return (await ok<{ changes: Batch }>(server.url, CHANGES, { since, limit }, user.token)).changes;
}

/** Pages `changes` until it says there is no more (bounded: a paging bug fails here, not in a timeout). */
async function catchUp(server: TestServer, user: TestUser, since: string, limit = 200): Promise<{ cursor: string; messages: State[]; pages: number }> {
  const messages: State[] = [];
  let cursor = since;
  for (let pages = 1; pages <= 100; pages++) {
    const batch = await changes(server, user, cursor, limit);
    messages.push(...batch.messages);
    cursor = batch.cursor;
    if (!batch.hasMore) return { cursor, messages, pages };
  }
  throw new Error('changes never said hasMore: false in 100 pages');
}

async function history(server: TestServer, user: TestUser, roomId: string): Promise<State[]> {
  return (await ok<{ messages: State[] }>(server.url, HISTORY, { r: roomId }, user.token)).messages;
}

/** A client's copy of a room: messages by id, each replaced by a newer state. */
function apply(copy: Map<string, State>, states: State[]): void {
  for (const state of states) {
    const held = copy.get(state.id);
    if (!held || held.version < state.version) copy.set(state.id, state);
  }
}

const byId = (states: Iterable<State>) => [...states].sort((a, b) => a.seq - b.seq);

describe('changes: an offline client catches up on everything', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer({ env: { MESSAGE_RATE_LIMIT: '100000/10', REACTION_RATE_LIMIT: '100000/10', EDIT_RATE_LIMIT: '100000/10' } });
  });

  it('gives each change a new, larger version that compares as a string', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const message = await send(server.url, owner, roomId, 'v1');
    const versions: string[] = [];
    const read = async () => versions.push((await ok(server.url, `query($id: ID!) { message(id: $id) { version } }`, { id: message.id }, owner.token)).message.version);
    await read();
    await ok(server.url, EDIT, { id: message.id, c: 'v2' }, owner.token);
    await read();
    await ok(server.url, ADD_REACTION, { id: message.id, r: ':+1:' }, member.token);
    await read();
    await ok(server.url, REMOVE_REACTION, { id: message.id, r: ':+1:' }, member.token);
    await read();
    await ok(server.url, DELETE, { id: message.id }, owner.token);
    await read();
    expect(new Set(versions).size).to.equal(5);
    expect([...versions].sort()).to.deep.equal(versions);
    // An idempotent repeat changes nothing, so it keeps the version.
    await ok(server.url, DELETE, { id: message.id }, owner.token);
    await read();
    expect(versions[5]).to.equal(versions[4]);
  });

  it('without since answers no changes and the cursor of now; from it, the next change', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    await send(server.url, owner, roomId, 'before');
    const now = await changes(server, owner, null);
    expect(now).to.deep.include({ hasMore: false, messages: [], memberships: [] });
    expect(await changes(server, owner, now.cursor)).to.deep.include({ messages: [], memberships: [], cursor: now.cursor });
    const after = await send(server.url, owner, roomId, 'after');
    const next = await changes(server, owner, now.cursor);
    expect(next.messages.map((m) => m.id)).to.deep.equal([after.id]);
    expect(next.cursor).not.to.equal(now.cursor);
    expect(await changes(server, owner, next.cursor)).to.deep.include({ messages: [], memberships: [], cursor: next.cursor });
  });

  it('an offline client that catches up with `changes` ends with exactly what a fresh full read shows', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const sent = [];
    for (let i = 0; i < 12; i++) sent.push(await send(server.url, i % 2 ? member : owner, roomId, `m${i}`));
    await ok(server.url, ADD_REACTION, { id: sent[0].id, r: ':eyes:' }, member.token);
    // The client reads the room, keeps the newest version it saw, and goes offline.
    const copy = new Map((await history(server, member, roomId)).map((m) => [m.id, m]));
    const since = [...copy.values()].reduce((max, m) => (m.version > max ? m.version : max), '');

    await ok(server.url, EDIT, { id: sent[1].id, c: 'm1, edited' }, member.token);
    await ok(server.url, DELETE, { id: sent[2].id }, owner.token);
    await ok(server.url, ADD_REACTION, { id: sent[3].id, r: ':tada:' }, owner.token);
    await ok(server.url, REMOVE_REACTION, { id: sent[0].id, r: ':eyes:' }, member.token);
    await ok(server.url, EDIT, { id: sent[4].id, c: 'm4, edited' }, owner.token);
    await ok(server.url, DELETE, { id: sent[4].id }, owner.token);
    for (let i = 12; i < 15; i++) await send(server.url, owner, roomId, `m${i}`);

    const { messages, pages } = await catchUp(server, member, since, 2);
    expect(pages).to.be.above(1);
    apply(copy, messages);
    expect(byId(copy.values())).to.deep.equal(byId(await history(server, member, roomId)));
  });

  it('an offline client that resubscribes to messageUpdated with since ends with exactly what a fresh full read shows', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const sent = [];
    for (let i = 0; i < 6; i++) sent.push(await send(server.url, owner, roomId, `m${i}`));
    const copy = new Map((await history(server, member, roomId)).map((m) => [m.id, m]));
    const since = [...copy.values()].reduce((max, m) => (m.version > max ? m.version : max), '');
    await ok(server.url, EDIT, { id: sent[0].id, c: 'edited offline' }, owner.token);
    await ok(server.url, DELETE, { id: sent[1].id }, owner.token);
    await ok(server.url, ADD_REACTION, { id: sent[2].id, r: ':+1:' }, member.token);
    const offlineSend = await send(server.url, owner, roomId, 'sent while offline');

    const live = collect<{ messageUpdated: State }>(wsClient(server, member.token), `subscription($r: ID, $since: String) { messageUpdated(roomId: $r, since: $since) { ${STATE} } }`, {
      r: roomId,
      since,
    });
    await waitFor(() => live.data.length >= 4, 5000, 'the replay');
    // And changes go on arriving live after the replay.
    await ok(server.url, EDIT, { id: sent[3].id, c: 'edited online' }, owner.token);
    await waitFor(() => live.data.some((d) => d.messageUpdated.content === 'edited online'), 5000, 'the live edit');
    expect(live.errors).to.deep.equal([]);
    expect(live.data.map((d) => d.messageUpdated.id)).to.include(offlineSend.id);
    apply(
      copy,
      live.data.map((d) => d.messageUpdated),
    );
    expect(byId(copy.values())).to.deep.equal(byId(await history(server, member, roomId)));
  });

  it('20 racing writers while a reader pages: every change arrives, none twice, each page after the last cursor', async function () {
    this.timeout(120_000);
    const owner = await newUser(server.url);
    const writers = await Promise.all(Array.from({ length: 20 }, async () => newUser(server.url)));
    const roomId = await groupRoom(server.url, owner, writers);
    const start = await changes(server, owner, null);
    let writing = true;
    const seen = new Map<string, string>();
    const pairs = new Set<string>();
    let cursor = start.cursor;
    // Cursors are opaque to clients; the test reads the positions they carry with the server's own codec.
    const position = (c: string) => server.app.services.changes.cursors.decode(c, 'cursor');
    const after = (a: string, b: string) => comparePositions(position(a), position(b)) > 0;
    const page = async () => {
      const batch = await changes(server, owner, cursor, 25);
      for (const m of batch.messages) {
        expect(after(m.version, cursor), `a change at ${m.version} after cursor ${cursor}`).to.equal(true);
        const pair = `${m.id}@${m.version}`;
        expect(pairs.has(pair), `${pair} twice`).to.equal(false);
        pairs.add(pair);
        seen.set(m.id, m.version);
      }
      expect(comparePositions(position(batch.cursor), position(cursor)) >= 0).to.equal(true);
      cursor = batch.cursor;
      return batch.hasMore;
    };
    const reader = (async () => {
      while (writing) {
        await page();
        await sleep(5);
      }
    })();
    await Promise.all(
      writers.map(async (writer, w) => {
        const mine: string[] = [];
        for (let i = 0; i < 10; i++) {
          const op = (w + i) % 4;
          if (op === 0 || mine.length === 0) mine.push((await send(server.url, writer, roomId, `w${w} m${i}`)).id);
          else if (op === 1) await ok(server.url, EDIT, { id: mine[mine.length - 1], c: `w${w} edit ${i}` }, writer.token);
          else if (op === 2) await ok(server.url, ADD_REACTION, { id: mine[0], r: `:r${i}:` }, writer.token);
          else await ok(server.url, DELETE, { id: mine.shift() as string }, writer.token);
        }
      }),
    );
    writing = false;
    await reader;
    for (let i = 0; i < 100 && (await page()); i++);
    const final = await server.app.db.query<{ id: string; version: string; versionXid: string; versionFloor: string; revision: number }>(
      `SELECT id, version::text, version_xid::text AS "versionXid", version_floor::text AS "versionFloor", revision FROM messages WHERE room_id = $1 ORDER BY seq`,
      [roomId],
    );
    expect(final.length).to.be.above(50);
    expect(Object.fromEntries(seen)).to.deep.equal(Object.fromEntries(final.map((m) => [m.id, server.app.services.changes.versionOf(m)])));
  });

  it('hands out versions in commit order: a change committing later never gets a smaller version than one already seen', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const a = await send(server.url, owner, roomId, 'a');
    const b = await send(server.url, member, roomId, 'b');
    let cursor = (await changes(server, owner, null)).cursor;
    // A change that takes its version, then stays uncommitted for a while (the real edit statement, in a held transaction).
    const slow = server.app.db.transaction(async (manager) => {
      await manager.withRepository(server.app.repos.messages).editMessage(a.id, 'slow edit');
      await sleep(800);
    });
    await sleep(100);
    let fastDone = false;
    const fast = ok(server.url, EDIT, { id: b.id, c: 'fast edit' }, member.token).then(() => (fastDone = true));
    const seen = new Set<string>();
    let slowDone = false;
    void slow.then(() => (slowDone = true));
    // Read as a client polling would, while both are in flight, and once more after.
    for (let polls = 0; polls < 200 && !(fastDone && slowDone); polls++) {
      const batch = await changes(server, owner, cursor);
      for (const m of batch.messages) seen.add(`${m.id}:${m.content}`);
      cursor = batch.cursor;
      await sleep(20);
    }
    await Promise.all([slow, fast]);
    for (const m of (await changes(server, owner, cursor)).messages) seen.add(`${m.id}:${m.content}`);
    expect([...seen].sort()).to.deep.equal([`${a.id}:slow edit`, `${b.id}:fast edit`].sort());
  });

  it('gives a message one version however often it is read, and resuming from it misses no change still in flight when it was written', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const a = await send(server.url, owner, roomId, 'a');
    const b = await send(server.url, member, roomId, 'b');
    // An older transaction edits a, then stays uncommitted while b is edited and read.
    const slow = server.app.db.transaction(async (manager) => {
      await manager.withRepository(server.app.repos.messages).editMessage(a.id, 'slow edit');
      await sleep(600);
    });
    await sleep(100);
    const VERSION = `query($id: ID!) { message(id: $id) { version } }`;
    const edited = (await ok(server.url, `mutation($id: ID!) { editMessage(id: $id, content: "fast edit") { version } }`, { id: b.id }, member.token)).editMessage.version;
    const readWhileInFlight = (await ok(server.url, VERSION, { id: b.id }, owner.token)).message.version;
    await slow;
    const readAfter = (await ok(server.url, VERSION, { id: b.id }, owner.token)).message.version;
    expect([readWhileInFlight, readAfter]).to.deep.equal([edited, edited]);
    // The slow edit committed after b's edit was read: resuming from b's version still brings it.
    const resumed = await catchUp(server, owner, edited);
    expect(resumed.messages.map((m) => `${m.id}:${m.content}`)).to.include(`${a.id}:slow edit`);
  });

  it('waits for a write in flight before a committed change rather than leave the change out; past the wait, says hasMore and brings it next', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId, 'a');
    // A transaction that takes its id first (an older position than any change after it) and holds it open for `ms`.
    const inFlight = (ms: number) =>
      server.app.db.transaction(async (manager) => {
        await manager.query(`SELECT chat_writing_xact()`);
        await sleep(ms);
      });
    // The cursor of now, taken while an older write is in flight, names exactly what had committed: `a` is before it.
    const before = inFlight(300);
    await sleep(50);
    const m2 = await send(server.url, owner, roomId, 'committed before now');
    let cursor = (await changes(server, owner, null)).cursor;
    await before;
    expect((await changes(server, owner, cursor)).messages.map((x) => x.id)).to.not.include(m2.id);
    const brief = inFlight(300);
    await sleep(50);
    await ok(server.url, EDIT, { id: m.id, c: 'edited behind a brief write' }, owner.token);
    const waited = await changes(server, owner, cursor);
    expect(waited.messages.map((x) => x.content)).to.deep.equal(['edited behind a brief write']);
    expect(waited.hasMore).to.equal(false);
    await brief;
    cursor = waited.cursor;

    const long = inFlight(2_500);
    await sleep(50);
    await ok(server.url, EDIT, { id: m.id, c: 'edited behind a long write' }, owner.token);
    const startedAt = Date.now();
    const heldBack = await changes(server, owner, cursor);
    expect(Date.now() - startedAt, 'waited about HELD_BACK_WAIT_MS').to.be.within(900, 2_000);
    expect(heldBack).to.deep.include({ messages: [], hasMore: true });
    await long;
    expect((await changes(server, owner, heldBack.cursor)).messages.map((x) => x.content)).to.deep.equal(['edited behind a long write']);
  });

  it('pages changes in a constant number of statements, whatever their number', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const since = (await changes(server, owner, null)).cursor;
    for (let i = 0; i < 40; i++) {
      const m = await send(server.url, i % 2 ? member : owner, roomId, `m${i}`);
      if (i % 3 === 0) await ok(server.url, ADD_REACTION, { id: m.id, r: ':+1:' }, member.token);
    }
    const query = `query($s: String, $l: Int) { changes(since: $s, limit: $l) { cursor messages { id content sender { displayName } reactions { count users { id } } } memberships { id room { id } } } }`;
    const counts = [];
    for (const limit of [2, 40]) {
      const res = await gql(server.url, query, { s: since, l: limit }, owner.token);
      expect(res.errors).to.equal(undefined);
      expect(res.data?.changes.messages).to.have.length(limit);
      counts.push(res.extensions?.sqlStatements);
    }
    expect(counts[0]).to.be.at.most(4);
    expect(counts[1]).to.equal(counts[0]);
  });

  it("shows a room left only up to the moment of leaving, its own removal included, and never another company's rooms", async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const since = (await changes(server, member, null)).cursor;
    const kept = await send(server.url, owner, roomId, 'said before the removal, never changed');
    const before = await send(server.url, owner, roomId, 'before the removal');
    await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: member.id }, owner.token);
    const after = await send(server.url, owner, roomId, 'after the removal');
    await ok(server.url, EDIT, { id: before.id, c: 'edited after the removal' }, owner.token);
    const batch = await changes(server, member, since);
    // A change made before leaving arrives, as it was; one made after does not.
    expect(batch.messages.map((m) => ({ id: m.id, content: m.content }))).to.deep.equal([{ id: kept.id, content: 'said before the removal, never changed' }]);
    expect(batch.messages.map((m) => m.id)).not.to.include(after.id);
    expect(JSON.stringify(batch)).not.to.include('after the removal');
    expect(batch.memberships.map((m) => ({ room: m.room.id, isActive: m.isActive }))).to.deep.equal([{ room: roomId, isActive: false }]);

    // A token naming another company sees none of the old company's rooms.
    const elsewhere = await signToken(TEST_JWT_SECRET, { userId: owner.id, name: owner.name, companyId: randomUUID(), expiresIn: '1h' });
    const moved = (await ok(server.url, CHANGES, { since, limit: 200 }, elsewhere)).changes as Batch;
    expect({ messages: moved.messages, memberships: moved.memberships }).to.deep.equal({ messages: [], memberships: [] });
  });

  it("answers a left room's later state as for a room that does not exist: a reply's parent, reads, reactions, the room, over HTTP and in a replay", async () => {
    const { owner, admin, member, roomId } = await staffedRoom(server.url);
    const since = (await changes(server, member, null)).cursor;
    const root = await send(server.url, owner, roomId, 'the root');
    const mine = (await ok(server.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId, content: 'my reply', parentId: root.id } }, member.token)).sendMessage;
    await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: member.id }, member.token);
    // Life goes on in the room: the root is edited, replied to, reacted to, read; someone joins.
    await ok(server.url, EDIT, { id: root.id, c: 'the root, edited later' }, owner.token);
    await ok(server.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId, content: 'a later reply', parentId: root.id } }, admin.token);
    await ok(server.url, ADD_REACTION, { id: root.id, r: ':later:' }, admin.token);
    await ok(server.url, `mutation($r: ID!) { markRoomRead(roomId: $r) { id } }`, { r: roomId }, admin.token);
    const joiner = await newUser(server.url, { companyId: owner.companyId });
    await ok(server.url, `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`, { r: roomId, u: [joiner.id] }, owner.token);

    const LATER = `id content replyCount readCount readBy(limit: 5) { id } reactions { reaction } mentions { id } threadParticipants { id } pinnedBy { id }
      edits(limit: 5) { content } parent { id content edits(limit: 5) { content } threadParticipants { id } reactions { reaction } }
      room { id name lastMessageAt memberCount members(limit: 5) { id } myMembership { id } lastMessage { id } unreadCount messages(limit: 5) { id } readReceipts(limit: 5) { lastReadAt } }`;
    const expected = {
      id: mine.id, content: 'my reply', replyCount: 0, readCount: 0, readBy: [], reactions: [], mentions: [], threadParticipants: [], pinnedBy: null, edits: [], parent: null,
      room: { id: roomId, name: 'Team', lastMessageAt: null, memberCount: 0, members: [], myMembership: null, lastMessage: null, unreadCount: 0, messages: [], readReceipts: [] },
    };
    const { changes: batch } = await ok(server.url, `query($s: String) { changes(since: $s, limit: 10) { messages { ${LATER} } memberships { isActive room { memberCount lastMessageAt members(limit: 5) { id } } } } }`, { s: since }, member.token);
    expect(batch.messages).to.deep.equal([expected]);
    expect(batch.memberships).to.deep.equal([{ isActive: false, room: { memberCount: 0, lastMessageAt: null, members: [] } }]);

    const replay = collect(wsClient(server, member.token), `subscription($s: String) { messageUpdated(since: $s) { ${LATER} } }`, { s: since });
    await waitFor(() => replay.data.length > 0 || replay.errors.length > 0, 5000, 'the replay');
    await sleep(200);
    expect(replay.errors).to.deep.equal([]);
    expect(replay.data.map((d) => d.messageUpdated)).to.deep.equal([expected]);
  });

  it('pages both lists at once when both overflow: the page stops at the smaller of their last versions, nothing skipped', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const since = (await changes(server, member, null)).cursor;
    // Four messages, then four new memberships of the member: each list overflows a page of 3.
    const sent = [];
    for (let i = 0; i < 4; i++) sent.push((await send(server.url, owner, roomId, `m${i}`)).id);
    const rooms = [];
    for (let i = 0; i < 4; i++) rooms.push(await groupRoom(server.url, owner, [member], `r${i}`));
    const seenMessages: string[] = [];
    const seenRooms: string[] = [];
    let cursor = since;
    for (let pages = 0; pages < 10; pages++) {
      const batch = await changes(server, member, cursor, 3);
      seenMessages.push(...batch.messages.map((m) => m.id));
      seenRooms.push(...batch.memberships.map((m) => m.room.id));
      cursor = batch.cursor;
      if (!batch.hasMore) break;
    }
    expect(seenMessages).to.deep.equal(sent);
    expect(seenRooms).to.deep.equal(rooms);
  });

  it("gives cursors that tell nothing of how many writes other companies made between them", async () => {
    const { owner } = await staffedRoom(server.url);
    const elsewhere = await staffedRoom(server.url);
    const position = async () => (await server.app.db.query<{ v: string }>(`SELECT last_value::text AS v FROM change_version_seq`))[0].v;
    const taken: { cursor: string; position: string }[] = [];
    for (const writes of [0, 1, 5]) {
      for (let i = 0; i < writes; i++) await send(server.url, elsewhere.owner, elsewhere.roomId, `elsewhere ${i}`);
      taken.push({ cursor: (await changes(server, owner, null)).cursor, position: await position() });
    }
    for (const { cursor, position: p } of taken) {
      // The position is nowhere in the cursor, in any base a client could read.
      expect(cursor.toLowerCase()).not.to.include(BigInt(p).toString(16));
      expect(cursor).not.to.include(p);
    }
    // Cursors of nearby positions look unrelated: nearly every character differs.
    for (let i = 1; i < taken.length; i++) {
      const [a, b] = [taken[i - 1].cursor, taken[i].cursor];
      const differing = [...a].filter((c, k) => b[k] !== c).length;
      expect(differing, `${a} vs ${b}`).to.be.at.least(14);
    }
  });

  it('refuses a malformed, edited or foreign cursor with BAD_USER_INPUT, over HTTP and WebSocket', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    const good = (await changes(server, owner, null)).cursor;
    const other = await startServer({ env: { JWT_SECRET: 'another deployment' } });
    const foreignOwner = await signToken('another deployment', { userId: owner.id, name: owner.name, companyId: owner.companyId ?? undefined, expiresIn: '1h' });
    const foreign = (await ok(other.url, CHANGES, { since: null }, foreignOwner)).changes.cursor as string;
    // One character changed anywhere: the block decrypts to another position whose tag does not match.
    const edited = `${good.slice(0, 5)}${good[5] === 'A' ? 'B' : 'A'}${good.slice(6)}`;
    for (const since of ['', 'abc', '0', good.toUpperCase(), edited, foreign, `${good}x`, `0000000z.${good}`, 'A'.repeat(22), '\u0000']) {
      expect(await errorCode(server.url, CHANGES, { since }, owner.token), JSON.stringify(since)).to.equal('BAD_USER_INPUT');
      const sub = collect(wsClient(server, owner.token), `subscription($r: ID, $s: String) { messageUpdated(roomId: $r, since: $s) { id } }`, { r: roomId, s: since });
      await waitFor(() => sub.errors.length > 0, 5000, 'the refusal');
      expect(sub.errors.map((e) => e.code), JSON.stringify(since)).to.deep.equal(['BAD_USER_INPUT']);
    }
    for (const limit of [0, 501]) expect(await errorCode(server.url, CHANGES, { since: good, limit }, owner.token)).to.equal('BAD_USER_INPUT');
  });
});
