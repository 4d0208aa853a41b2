import { expect } from 'chai';
import { errorCode, gql, ok, type TestUser, newUser } from './support/client';
import { groupRoom, send, staffedRoom } from './support/factories';
import { startServer, wsClient, type TestServer } from './support/server';
import { collect, ready, sleep, waitFor } from './support/ws';
import { randomUUID } from 'node:crypto';

const HISTORY = `query($roomId: ID!, $limit: Int, $before: ID, $includeDeleted: Boolean) {
  messages(roomId: $roomId, limit: $limit, before: $before, includeDeleted: $includeDeleted) {
    id seq content isDeleted sender { id displayName } reactions { reaction count reactedByMe users { id displayName } }
  }
}`;

type HistoryMessage = { id: string; seq: number; content: string | null; isDeleted: boolean };

async function history(server: TestServer, user: TestUser, roomId: string, args: Record<string, unknown> = {}): Promise<HistoryMessage[]> {
  return (await ok<{ messages: HistoryMessage[] }>(server.url, HISTORY, { roomId, ...args }, user.token)).messages;
}

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content clientId type metadata sender { id } } }`;

describe('messages', () => {
  let server: TestServer;
  beforeEach(async () => {
    // Most tests send more than the default 20 per 10 s; the limit itself has its own tests.
    server = await startServer({ env: { MESSAGE_RATE_LIMIT: '100000/10', ROOM_RATE_LIMIT: '1000/60' } });
  });

  it('gives each message the room\'s next seq and moves lastMessageAt', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const first = await send(server.url, owner, roomId, 'one');
    const second = await send(server.url, member, roomId, 'two');
    expect([first.seq, second.seq]).to.deep.equal([1, 2]);
    const { room } = await ok(server.url, `query($id: ID!) { room(id: $id) { lastMessageAt lastMessage { id } } }`, { id: roomId }, owner.token);
    expect(room.lastMessage.id).to.equal(second.id);
    expect(room.lastMessageAt).to.be.a('string');
  });

  it('stores type, metadata and clientId as sent', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    const { sendMessage } = await ok(server.url, SEND, { input: { roomId, content: 'pic', type: 'IMAGE', metadata: { url: 'https://x.test/a.png', w: 10 }, clientId: 'c-1' } }, owner.token);
    expect(sendMessage).to.include({ type: 'IMAGE', clientId: 'c-1', content: 'pic' });
    expect(sendMessage.metadata).to.deep.equal({ url: 'https://x.test/a.png', w: 10 });
  });

  it('refuses non-members with NOT_FOUND, as for a room that does not exist', async () => {
    const { stranger, outsider, roomId } = await staffedRoom(server.url);
    const input = (id: string) => ({ input: { roomId: id, content: 'hi' } });
    const nonMember = await gql(server.url, SEND, input(roomId), stranger.token);
    const missing = await gql(server.url, SEND, input('00000000-0000-4000-8000-000000000000'), stranger.token);
    expect(nonMember.errors?.[0].extensions.code).to.equal('NOT_FOUND');
    expect(nonMember.errors?.[0].message).to.equal(missing.errors?.[0].message);
    expect(await errorCode(server.url, SEND, input(roomId), outsider.token)).to.equal('NOT_FOUND');
    expect(await errorCode(server.url, HISTORY, { roomId }, stranger.token)).to.equal('NOT_FOUND');
  });

  it('lets only the sender edit, sets editedAt, and refuses deleted and foreign messages', async () => {
    const { owner, admin, member, roomId } = await staffedRoom(server.url);
    const message = await send(server.url, member, roomId, 'draft');
    const EDIT = `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { content isEdited editedAt } }`;
    expect(await errorCode(server.url, EDIT, { id: message.id, c: 'x' }, owner.token)).to.equal('FORBIDDEN');
    expect(await errorCode(server.url, EDIT, { id: message.id, c: 'x' }, admin.token)).to.equal('FORBIDDEN');
    const { editMessage } = await ok(server.url, EDIT, { id: message.id, c: 'final' }, member.token);
    expect(editMessage).to.include({ content: 'final', isEdited: true });
    expect(editMessage.editedAt).to.be.a('string');
    await ok(server.url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: message.id }, member.token);
    expect(await errorCode(server.url, EDIT, { id: message.id, c: 'again' }, member.token)).to.equal('BAD_USER_INPUT');
  });

  it('lets the sender, the OWNER and an ADMIN delete, not another MEMBER; deleting twice is fine', async () => {
    const { owner, admin, member, roomId } = await staffedRoom(server.url);
    const DELETE = `mutation($id: ID!) { deleteMessage(id: $id) { isDeleted deletedAt content metadata } }`;
    const byOwner = await send(server.url, owner, roomId, 'o', { metadata: { a: 1 } });
    expect(await errorCode(server.url, DELETE, { id: byOwner.id }, member.token)).to.equal('FORBIDDEN');
    const { deleteMessage } = await ok(server.url, DELETE, { id: byOwner.id }, admin.token);
    expect(deleteMessage).to.include({ isDeleted: true, content: null, metadata: null });
    const again = await ok(server.url, DELETE, { id: byOwner.id }, owner.token);
    expect(again.deleteMessage.deletedAt).to.equal(deleteMessage.deletedAt);
    const byMember = await send(server.url, member, roomId, 'm');
    await ok(server.url, DELETE, { id: byMember.id }, member.token);
    const byMember2 = await send(server.url, member, roomId, 'm2');
    await ok(server.url, DELETE, { id: byMember2.id }, owner.token);
  });

  it('pages history newest first by `before` with no message twice and none skipped', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    for (let i = 1; i <= 25; i++) await send(server.url, owner, roomId, `m${i}`);
    const seen: number[] = [];
    let before: string | null = null;
    // 25 messages in pages of 7: 4 pages, then an empty one. A bound, so a paging bug fails here, not in a timeout.
    const pageSizes: number[] = [];
    for (let page = 0; page < 6; page++) {
      const messages: HistoryMessage[] = await history(server, owner, roomId, { limit: 7, before });
      pageSizes.push(messages.length);
      if (messages.length === 0) break;
      seen.push(...messages.map((m) => m.seq));
      before = messages[messages.length - 1].id;
    }
    expect(pageSizes).to.deep.equal([7, 7, 7, 4, 0]);
    expect(seen).to.deep.equal(Array.from({ length: 25 }, (_, i) => 25 - i));
  });

  it('leaves deleted messages out unless includeDeleted, and shows them without content', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    const a = await send(server.url, owner, roomId, 'a');
    const b = await send(server.url, owner, roomId, 'b');
    await ok(server.url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: a.id }, owner.token);
    expect((await history(server, owner, roomId)).map((m) => m.id)).to.deep.equal([b.id]);
    const all = await history(server, owner, roomId, { includeDeleted: true });
    expect(all.map((m) => [m.id, m.isDeleted, m.content])).to.deep.equal([[b.id, false, 'b'], [a.id, true, null]]);
    const { message } = await ok(server.url, `query($id: ID!) { message(id: $id) { isDeleted content } }`, { id: a.id }, owner.token);
    expect(message).to.deep.equal({ isDeleted: true, content: null });
  });

  it('refuses a `before` that names a message of another room', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    const other = await groupRoom(server.url, owner, [], 'Other');
    const foreign = await send(server.url, owner, other, 'x');
    expect(await errorCode(server.url, HISTORY, { roomId, before: foreign.id }, owner.token)).to.equal('BAD_USER_INPUT');
  });

  it('gives 20 concurrent senders x 50 messages the seqs 1..1000 exactly', async function () {
    this.timeout(120_000);
    const owner = await newUser(server.url);
    const senders = await Promise.all(Array.from({ length: 20 }, async () => newUser(server.url)));
    const roomId = await groupRoom(server.url, owner, senders);
    await Promise.all(
      senders.map(async (sender, s) => {
        for (let i = 0; i < 50; i++) {
          const res = await gql(server.url, SEND, { input: { roomId, content: `${s}-${i}` } }, sender.token);
          expect(res.errors, JSON.stringify(res.errors)).to.equal(undefined);
        }
      }),
    );
    const rows = await server.app.db.query<{ seq: number }>(`SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq`, [roomId]);
    expect(rows.map((r: { seq: number }) => r.seq)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => i + 1));
  });

  it('stores one message for 20 parallel sends with one clientId and returns it to all', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => ok(server.url, SEND, { input: { roomId, content: 'once', clientId: 'retry-1' } }, owner.token)),
    );
    const ids = new Set(results.map((r) => r.sendMessage.id));
    expect(ids.size).to.equal(1);
    const rows = await server.app.db.query(`SELECT count(*)::int AS n FROM messages WHERE room_id = $1`, [roomId]);
    expect(rows[0].n).to.equal(1);
    const retry = await ok(server.url, SEND, { input: { roomId, content: 'changed', clientId: 'retry-1' } }, owner.token);
    expect(retry.sendMessage).to.include({ id: [...ids][0], content: 'once', seq: 1 });
    // The 19 losers rolled back their seq bump: the next message follows with no gap.
    expect((await send(server.url, owner, roomId, 'next')).seq).to.equal(2);
  });

  it('hands out seqs in commit order with no gap while clientId races lose and roll back (a subscriber sees 1..N)', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const inbox = collect<{ messageAdded: { id: string; seq: number } }>(wsClient(server, member.token), `subscription($r: ID) { messageAdded(roomId: $r) { id seq } }`, { r: roomId });
    await ready([inbox], () => send(server.url, owner, roomId, 'probe'));
    const start = (await send(server.url, owner, roomId, 'start')).seq;
    await Promise.all(
      Array.from({ length: 10 }, async (_, round) => {
        // Five racers per clientId: one stores, four roll back; plain sends interleave.
        await Promise.all([
          ...Array.from({ length: 5 }, () => ok(server.url, SEND, { input: { roomId, content: `race ${round}`, clientId: `race-${round}` } }, owner.token)),
          send(server.url, member, roomId, `plain ${round}`),
        ]);
      }),
    );
    const end = (await send(server.url, owner, roomId, 'end')).seq;
    expect(end - start).to.equal(21);
    await waitFor(() => inbox.data.some((d) => d.messageAdded.seq === end), 5000, 'the last message');
    const seqs = inbox.data.map((d) => d.messageAdded.seq).filter((seq) => seq >= start);
    expect(seqs).to.deep.equal(Array.from({ length: end - start + 1 }, (_, i) => start + i));
  });

  it('answers a clientId retry with the first message even at the rate limit, and publishes nothing again', async () => {
    const limited = await startServer({ env: { MESSAGE_RATE_LIMIT: '2/60' } });
    const { owner, member, roomId } = await staffedRoom(limited.url);
    // Without roomId: that stream has no seq order to hide a second event behind.
    const inbox = collect<{ messageAdded: { id: string; content: string } }>(wsClient(limited, member.token), `subscription { messageAdded { id content } }`);
    await sleep(300);
    const first = await ok(limited.url, SEND, { input: { roomId, content: 'keyed', clientId: 'k-1' } }, owner.token);
    await send(limited.url, owner, roomId, 'fills the window');
    expect(await errorCode(limited.url, SEND, { input: { roomId, content: 'over' } }, owner.token)).to.equal('RATE_LIMITED');
    const retry = await ok(limited.url, SEND, { input: { roomId, content: 'keyed', clientId: 'k-1' } }, owner.token);
    expect(retry.sendMessage.id).to.equal(first.sendMessage.id);
    await sleep(500);
    expect(inbox.data.map((d) => d.messageAdded.content)).to.deep.equal(['keyed', 'fills the window']);
  });

  it('shows the newest message that is not deleted as lastMessage, and orders the inbox by the newest sent', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const quiet = await groupRoom(server.url, owner, [member], 'Quiet');
    await send(server.url, owner, quiet, 'older');
    const kept = await send(server.url, owner, roomId, 'kept');
    const newest = await send(server.url, member, roomId, 'newest');
    await ok(server.url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: newest.id }, member.token);
    const { room } = await ok(server.url, `query($id: ID!) { room(id: $id) { lastMessage { id content } } }`, { id: roomId }, owner.token);
    expect(room.lastMessage).to.deep.equal({ id: kept.id, content: 'kept' });
    const { rooms } = await ok(server.url, `{ rooms { items { id lastMessage { id } } } }`, {}, owner.token);
    expect(rooms.items.slice(0, 2)).to.deep.equal([
      { id: roomId, lastMessage: { id: kept.id } },
      { id: quiet, lastMessage: { id: (await history(server, owner, quiet))[0].id } },
    ]);
  });

  it('applies the default limit of 20 messages per 10 s per user and room', async () => {
    const defaults = await startServer();
    const { owner, member, roomId } = await staffedRoom(defaults.url);
    for (let i = 0; i < 20; i++) await send(defaults.url, owner, roomId, `n${i}`);
    expect(await errorCode(defaults.url, SEND, { input: { roomId, content: 'one too many' } }, owner.token)).to.equal('RATE_LIMITED');
    // The limit is per user: another member still sends.
    await send(defaults.url, member, roomId, 'mine');
  });

  it('sweeps rate-limit keys whose every admission is older than the window, and keeps the live ones', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    const otherRoom = await groupRoom(server.url, owner, [], 'Stale');
    await send(server.url, owner, roomId, 'fresh');
    await server.app.db.query(
      `INSERT INTO rate_limits (user_id, scope_id, action, admitted_at) VALUES ($1, $2, 'MESSAGE', ARRAY[now() - interval '1 hour'])`,
      [owner.id, otherRoom],
    );
    expect(await server.app.repos.rateLimits.sweepIdleKeys(10)).to.be.at.least(1);
    const rows = await server.app.db.query<{ scope_id: string }>(
      `SELECT scope_id FROM rate_limits WHERE user_id = $1 AND action = 'MESSAGE'`,
      [owner.id],
    );
    expect(rows.map((r) => r.scope_id)).to.deep.equal([roomId]);
  });

  it('admits exactly the limit of 50 parallel sends and answers the rest RATE_LIMITED with 429', async () => {
    const limited = await startServer({ env: { MESSAGE_RATE_LIMIT: '10/60' } });
    const { owner, roomId } = await staffedRoom(limited.url);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => gql(limited.url, SEND, { input: { roomId, content: `n${i}` } }, owner.token)),
    );
    const admitted = results.filter((r) => !r.errors);
    const refused = results.filter((r) => r.errors);
    expect(admitted).to.have.length(10);
    for (const r of refused) {
      expect(r.errors?.[0].extensions.code).to.equal('RATE_LIMITED');
      expect(r.errors?.[0].extensions.retryAfter).to.be.a('number').above(0);
      expect(r.status).to.equal(429);
      expect(Number(r.headers.get('retry-after'))).to.be.above(0);
    }
    expect(admitted.map((r) => r.data?.sendMessage.seq).sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('reads a history page of 50 messages with senders, reactions and their users in one statement, at any page size and depth', async () => {
    const { owner, admin, member, roomId } = await staffedRoom(server.url);
    const users = [owner, admin, member];
    for (let i = 0; i < 60; i++) {
      const m = await send(server.url, users[i % 3], roomId, `m${i}`);
      if (i % 2 === 0) await ok(server.url, `mutation($id: ID!) { addReaction(messageId: $id, reaction: ":+1:") { id } }`, { id: m.id }, users[(i + 1) % 3].token);
    }
    for (const limit of [10, 50]) {
      const res = await gql(server.url, HISTORY, { roomId, limit }, owner.token);
      expect(res.errors).to.equal(undefined);
      expect(res.data?.messages).to.have.length(limit);
      expect(res.extensions?.sqlStatements, `limit ${limit}`).to.equal(1);
    }
    const first = await history(server, owner, roomId, { limit: 10 });
    const deep = await gql(server.url, HISTORY, { roomId, limit: 50, before: first[9].id }, owner.token);
    expect(deep.extensions?.sqlStatements).to.equal(1);
    // A caller who may not see the room costs the same one statement, and learns nothing more than for a missing room.
    const stranger = await newUser(server.url);
    const hidden = await gql(server.url, HISTORY, { roomId, limit: 50 }, stranger.token);
    expect({ code: hidden.errors?.[0].extensions.code, statements: hidden.extensions?.sqlStatements }).to.deep.equal({ code: 'NOT_FOUND', statements: 1 });
  });

  it('sends a message in one statement, its sender and a clientId retry included', async () => {
    const { owner, roomId } = await staffedRoom(server.url);
    for (const input of [{ content: 'plain' }, { content: 'keyed', clientId: 'once' }, { content: 'keyed', clientId: 'once' }]) {
      const res = await gql(server.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content sender { id displayName } } }`, { input: { roomId, ...input } }, owner.token);
      expect(res.errors).to.equal(undefined);
      expect(res.extensions?.sqlStatements, JSON.stringify(input)).to.equal(1);
    }
  });

  it('reads a page without reactions in one statement, and reactions asked through a fragment still come in it', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId, 'x');
    await ok(server.url, `mutation($id: ID!) { addReaction(messageId: $id, reaction: "👀") { id } }`, { id: m.id }, member.token);
    const plain = await gql(server.url, `query($r: ID!) { messages(roomId: $r) { id content } }`, { r: roomId }, owner.token);
    expect(plain.extensions?.sqlStatements).to.equal(1);
    const viaFragment = await gql(
      server.url,
      `query($r: ID!) { messages(roomId: $r) { id ...R } } fragment R on Message { reactions { reaction count users { id } } }`,
      { r: roomId },
      owner.token,
    );
    expect(viaFragment.data?.messages[0].reactions).to.deep.equal([{ reaction: '👀', count: 1, users: [{ id: member.id }] }]);
    expect(viaFragment.extensions?.sqlStatements).to.equal(1);
  });

  it('reads the rooms list with last message, sender, unread and member counts in one statement, at any page size', async () => {
    const me = await newUser(server.url);
    const friend = await newUser(server.url);
    for (let i = 0; i < 12; i++) {
      const roomId = await groupRoom(server.url, me, [friend], `R${i}`);
      await send(server.url, friend, roomId, `hi ${i}`);
    }
    const ROOMS = `query($n: Int) { rooms(pageSize: $n) { total items { id name memberCount unreadCount lastMessage { content sender { displayName } } } } }`;
    const counts: number[] = [];
    for (const n of [5, 12]) {
      const res = await gql(server.url, ROOMS, { n }, me.token);
      expect(res.errors).to.equal(undefined);
      expect(res.data?.rooms.items).to.have.length(n);
      expect(res.data?.rooms.items[0]).to.deep.include({ memberCount: 2, unreadCount: 1 });
      counts.push(res.extensions?.sqlStatements as number);
    }
    expect(counts).to.deep.equal([1, 1]);
  });
});

describe('a clientId retry never shows a room the caller cannot see', () => {
  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content room { id name memberCount } } }`;

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

describe('an existing message and a missing one take the same path', () => {
  const EDIT = `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id content } }`;

  it('reads of a message in a room not seen cost what a missing id costs', async () => {
    const server = await startServer();
    const { owner, roomId } = await staffedRoom(server.url);
    const message = await send(server.url, owner, roomId, 'hidden');
    const outsider = await newUser(server.url, { companyId: randomUUID() });
    const nonMember = await newUser(server.url);
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
