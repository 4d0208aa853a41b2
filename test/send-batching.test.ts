import { expect } from 'chai';
import { gql, newUser, ok, type GraphQLResponse, type TestUser } from './support/client';
import { groupRoom, promote, staffedRoom } from './support/factories';
import { countRows, startServer, type TestServer } from './support/server';
import { Client } from 'pg';
import { testDatabaseUrl } from './support/hooks';
import { sleep } from './support/ws';

/**
 * Group commit for plain sends (src/chat/messages/send-batcher.ts): while the
 * server is busy, the sends waiting go to the database together, in one
 * statement, and each still gets exactly the answer it would get alone.
 * SEND_BATCH_CONCURRENCY=1 keeps one statement running at a time, so sends
 * that arrive in parallel wait and meet in batches.
 */

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content clientId sender { id } } }`;
const MUTE = `mutation($r: ID!, $u: ID!) { muteMember(roomId: $r, userId: $u) { mutedUntil } }`;
const BAN = `mutation($r: ID!, $u: ID!) { banMember(roomId: $r, userId: $u) }`;
const SLOW = `mutation($r: ID!, $s: Int!) { setSlowMode(roomId: $r, seconds: $s) { id } }`;

type Sent = { id: string; seq: number; content: string; clientId: string | null; sender: { id: string } };

function busyServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startServer({ env: { SEND_BATCH_CONCURRENCY: '1', MESSAGE_RATE_LIMIT: '1000/10', ...env } });
}

function sendAs(server: TestServer, user: TestUser, roomId: string, content: string, clientId?: string, extra: Record<string, unknown> = {}): Promise<GraphQLResponse<{ sendMessage: Sent }>> {
  return gql<{ sendMessage: Sent }>(server.url, SEND, { input: { roomId, content, clientId, ...extra } }, user.token);
}

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? NaN);
}

/** chat_sends_batched_total from /metrics: plain sends that were stored in a statement with others. */
function batchedSends(server: TestServer): Promise<number> {
  return metric(server, 'chat_sends_batched_total');
}

/** Holds a room's row in a transaction of its own (its sends wait, longer than the batcher's 20 ms) until `release`. */
async function holdRoom(roomId: string): Promise<{ release: () => Promise<void> }> {
  const holder = new Client({ connectionString: testDatabaseUrl() });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [roomId]);
  return {
    release: async () => {
      await holder.query('COMMIT').catch(() => {});
      await holder.end();
    },
  };
}

async function seqsOf(server: TestServer, roomId: string): Promise<number[]> {
  const rows = await server.app.db.query<{ seq: number }>(`SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq`, [roomId]);
  return rows.map((r) => r.seq);
}

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function codeOf(res: GraphQLResponse): string | undefined {
  return res.errors?.[0]?.extensions.code as string | undefined;
}

describe('plain sends stored together while the server is busy (group commit)', () => {
  it('answers each of 90 parallel sends (30 senders, 3 rooms) with its own message; each room has seq 1..30; /metrics counts the batched sends', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const owner = await newUser(server.url);
    const senders = await Promise.all(Array.from({ length: 30 }, () => newUser(server.url)));
    const rooms = [await groupRoom(server.url, owner, senders, 'A'), await groupRoom(server.url, owner, senders, 'B'), await groupRoom(server.url, owner, senders, 'C')];
    const before = await batchedSends(server);

    const answers = await Promise.all(rooms.flatMap((roomId, r) => senders.map((user, s) => sendAs(server, user, roomId, `${r}:${s}`))));

    answers.forEach((a, i) => {
      expect(a.errors, JSON.stringify(a.errors)).to.equal(undefined);
      const r = Math.floor(i / senders.length);
      const s = i % senders.length;
      expect(a.data!.sendMessage).to.include({ content: `${r}:${s}` });
      expect(a.data!.sendMessage.sender.id).to.equal(senders[s].id);
    });
    for (const [r, roomId] of rooms.entries()) {
      expect(await seqsOf(server, roomId), `room ${r}`).to.deep.equal(oneTo(30));
      const stored = await server.app.db.query<{ id: string; sender_id: string; content: string; seq: number }>(
        `SELECT id, sender_id, content, seq FROM messages WHERE room_id = $1 AND sender_id <> $2`,
        [roomId, owner.id],
      );
      // Each answer is the row stored for that send (its id, content, sender and seq).
      const answered = answers.slice(r * 30, r * 30 + 30).map((a) => a.data!.sendMessage);
      expect(stored.map((m) => `${m.id} ${m.sender_id} ${m.content} ${m.seq}`).sort()).to.deep.equal(answered.map((m) => `${m.id} ${m.sender.id} ${m.content} ${m.seq}`).sort());
    }
    expect((await batchedSends(server)) - before, 'sends stored in a statement with others').to.be.at.least(2);
  });

  it('gives each send of a batch its own answer: a stranger and an outsider NOT_FOUND, a muted member FORBIDDEN with mutedUntil, a banned one NOT_FOUND; nothing is stored for them', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const { companyId, owner, member, stranger, outsider, roomId } = await staffedRoom(server.url);
    const others = await Promise.all(Array.from({ length: 16 }, () => newUser(server.url, { companyId })));
    await ok(server.url, `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`, { r: roomId, u: others.map((o) => o.id) }, owner.token);
    const [banned, ...members] = others;
    await ok(server.url, BAN, { r: roomId, u: banned.id }, owner.token);
    await ok(server.url, MUTE, { r: roomId, u: member.id }, owner.token);
    const before = await batchedSends(server);

    // Two rounds of everyone at once: the members' sends carry the others' through batches.
    const senders = [...members, stranger, outsider, member, banned];
    const answers = await Promise.all([0, 1].flatMap((round) => senders.map((user) => sendAs(server, user, roomId, `round ${round}`))));
    const byUser = (user: TestUser) => answers.filter((_, i) => senders[i % senders.length] === user);

    for (const user of members) for (const a of byUser(user)) expect(a.errors, JSON.stringify(a.errors)).to.equal(undefined);
    for (const user of [stranger, outsider, banned]) expect(byUser(user).map(codeOf)).to.deep.equal(['NOT_FOUND', 'NOT_FOUND']);
    for (const a of byUser(member)) {
      expect(codeOf(a)).to.equal('FORBIDDEN');
      expect(a.errors![0].extensions.mutedUntil).to.be.a('string');
    }
    for (const user of [stranger, outsider, member, banned]) {
      expect(await countRows(server, `SELECT count(*)::int AS n FROM messages WHERE room_id = $1 AND sender_id = $2`, [roomId, user.id])).to.equal(0);
    }
    expect(await seqsOf(server, roomId)).to.deep.equal(oneTo(members.length * 2));
    expect((await batchedSends(server)) - before).to.be.at.least(2);
  });

  it('keeps MESSAGE_RATE_LIMIT exact across batches: of 5 parallel sends each of 12 users under 3 per 60 s, exactly 3 per user are stored, the rest RATE_LIMITED', async function () {
    this.timeout(60_000);
    const server = await busyServer({ MESSAGE_RATE_LIMIT: '3/60' });
    const owner = await newUser(server.url);
    const users = await Promise.all(Array.from({ length: 12 }, () => newUser(server.url)));
    const roomId = await groupRoom(server.url, owner, users);
    const before = await batchedSends(server);

    const answers = await Promise.all(users.flatMap((user) => Array.from({ length: 5 }, (_, i) => sendAs(server, user, roomId, `n${i}`))));

    users.forEach((user, u) => {
      const mine = answers.slice(u * 5, u * 5 + 5);
      expect(mine.filter((a) => !a.errors), `user ${u}'s admitted sends`).to.have.length(3);
      for (const a of mine.filter((x) => x.errors)) {
        expect(codeOf(a)).to.equal('RATE_LIMITED');
        expect(a.errors![0].extensions.retryAfter).to.be.a('number').above(0);
      }
    });
    expect(await seqsOf(server, roomId)).to.deep.equal(oneTo(36));
    expect((await batchedSends(server)) - before).to.be.at.least(2);
  });

  it('keeps slow mode per member in a batch: of 2 parallel sends each of 12 MEMBERs one is stored, the other RATE_LIMITED; ADMINs are not slowed', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const owner = await newUser(server.url);
    const users = await Promise.all(Array.from({ length: 12 }, () => newUser(server.url)));
    const admins = await Promise.all(Array.from({ length: 4 }, () => newUser(server.url)));
    const roomId = await groupRoom(server.url, owner, [...users, ...admins]);
    for (const admin of admins) await promote(server.url, owner, roomId, admin, 'ADMIN');
    await ok(server.url, SLOW, { r: roomId, s: 60 }, owner.token);
    const before = await batchedSends(server);

    // Round by round: every sender's second send meets the others' in later statements.
    const answers = await Promise.all([0, 1].flatMap((i) => [...users, ...admins].map((user) => sendAs(server, user, roomId, `slow ${i}`))));
    const of = (u: number) => [answers[u], answers[u + users.length + admins.length]];

    users.forEach((_, u) => {
      expect(of(u).filter((a) => !a.errors), `member ${u}'s admitted sends`).to.have.length(1);
      expect(of(u).filter((a) => a.errors).map(codeOf)).to.deep.equal(['RATE_LIMITED']);
    });
    admins.forEach((_, k) => {
      for (const a of of(users.length + k)) expect(a.errors, `ADMIN ${k}`).to.equal(undefined);
    });
    expect(await seqsOf(server, roomId)).to.deep.equal(oneTo(12 + 8));
    expect((await batchedSends(server)) - before).to.be.at.least(2);
  });

  it('returns the first message to every retry of a clientId, in a batch as alone: 10 senders x 3 parallel sends of one clientId each store 10 messages, seqs 1..10', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const owner = await newUser(server.url);
    const users = await Promise.all(Array.from({ length: 10 }, () => newUser(server.url)));
    const roomId = await groupRoom(server.url, owner, users);
    const before = await batchedSends(server);

    const answers = await Promise.all(users.flatMap((user, u) => [0, 1, 2].map(() => sendAs(server, user, roomId, `once ${u}`, `key-${u}`))));
    const stored = await batchedSends(server);
    const again = await Promise.all(users.map((user, u) => sendAs(server, user, roomId, 'changed', `key-${u}`)));
    // The retries found their first messages in one statement too (nothing failed and went again alone).
    expect((await batchedSends(server)) - stored, 'retries answered together').to.be.at.least(2);

    users.forEach((_, u) => {
      const mine = [...answers.slice(u * 3, u * 3 + 3), again[u]].map((a) => {
        expect(a.errors, JSON.stringify(a.errors)).to.equal(undefined);
        return a.data!.sendMessage;
      });
      expect(new Set(mine.map((m) => m.id)).size, `user ${u}'s answers name one message`).to.equal(1);
      expect(mine.map((m) => m.content)).to.deep.equal(Array(4).fill(`once ${u}`));
    });
    expect(await seqsOf(server, roomId)).to.deep.equal(oneTo(10));
    expect((await batchedSends(server)) - before).to.be.at.least(2);
  });

  it('stores nothing of a batch that rolls back for another writer and sends each of its sends again alone, each with its own answer', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const owner = await newUser(server.url);
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => newUser(server.url)));
    const primer = await groupRoom(server.url, owner, [c], 'Primer');
    const room = await groupRoom(server.url, owner, [a, b], 'Held');
    const other = await groupRoom(server.url, owner, [a], 'Free');
    // Both rooms' rows held by another transaction: the primer's send takes the one slot and waits; the two sends to
    // `room` then wait 20 ms for a slot and go together as one more statement, which waits on `room`'s row.
    const heldPrimer = await holdRoom(primer);
    const held = await holdRoom(room);
    const retried = await metric(server, 'chat_send_batches_retried_total');
    const before = await batchedSends(server);
    try {
      const first = sendAs(server, c, primer, 'takes the slot');
      await sleep(100);
      const keyed = sendAs(server, a, room, 'keyed here', 'key-1');
      const plain = sendAs(server, b, room, 'plain');
      await sleep(150);
      // Meanwhile a send with a mention (the one-send statement: not batched) commits a's key in the other room.
      const elsewhere = await sendAs(server, a, other, 'keyed elsewhere', 'key-1', { mentionIds: [owner.id] });
      expect(elsewhere.errors, JSON.stringify(elsewhere.errors)).to.equal(undefined);
      await held.release();
      await heldPrimer.release();
      const answers = await Promise.all([first, keyed, plain]);
      expect(answers[0].errors, JSON.stringify(answers[0].errors)).to.equal(undefined);
      // The batch failed on the key (the whole statement rolled back); alone, the keyed send finds the first message of
      // its key in another room, and the plain one is stored.
      expect(await metric(server, 'chat_send_batches_retried_total'), 'batches sent again send by send').to.equal(retried + 1);
      expect(await batchedSends(server), 'nothing counted as stored together').to.equal(before);
      expect(codeOf(answers[1])).to.equal('BAD_USER_INPUT');
      expect(answers[2].errors, JSON.stringify(answers[2].errors)).to.equal(undefined);
      const stored = await server.app.db.query<{ content: string; seq: number }>(`SELECT content, seq FROM messages WHERE room_id = $1 ORDER BY seq`, [room]);
      expect(stored).to.deep.equal([{ content: 'plain', seq: 1 }]);
    } finally {
      await held.release().catch(() => {});
      await heldPrimer.release().catch(() => {});
    }
  });

  it('numbers the sends of a batch in their order of arrival (and answers them in it), not in an order of its own', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const owner = await newUser(server.url);
    const users = await Promise.all(Array.from({ length: 6 }, () => newUser(server.url)));
    const room = await groupRoom(server.url, owner, users, 'Ordered');
    const held = await holdRoom(room);
    const before = await batchedSends(server);
    try {
      const first = sendAs(server, owner, room, 'waits alone');
      await sleep(100);
      const sends: Promise<GraphQLResponse<{ sendMessage: Sent }>>[] = [];
      const answeredAt: number[] = [];
      for (const [k, user] of users.entries()) {
        sends.push(sendAs(server, user, room, `arrived ${k}`).then((a) => (answeredAt.push(k), a)));
        await sleep(3);
      }
      await sleep(100);
      await held.release();
      await first;
      const answers = await Promise.all(sends);
      expect(answers.map((a) => a.data?.sendMessage.seq)).to.deep.equal([2, 3, 4, 5, 6, 7]);
      expect(answeredAt, 'answers in seq order').to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect((await batchedSends(server)) - before, 'sent together').to.be.at.least(2);
    } finally {
      await held.release().catch(() => {});
    }
  });

  it('holds back no other room while one room\'s row is held: sends to a free room, the same sender\'s too, are answered meanwhile', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const owner = await newUser(server.url);
    const [a, b] = await Promise.all([0, 1].map(() => newUser(server.url)));
    const stuckRoom = await groupRoom(server.url, owner, [a, b], 'Held');
    const freeRoom = await groupRoom(server.url, owner, [a, b], 'Free');
    const held = await holdRoom(stuckRoom);
    try {
      const stuck = sendAs(server, a, stuckRoom, 'waits');
      await sleep(50);
      const stuckToo = sendAs(server, b, stuckRoom, 'waits too');
      const free = [sendAs(server, b, freeRoom, 'free'), sendAs(server, a, freeRoom, 'free, by the sender who waits elsewhere')];
      const outcome = await Promise.race([Promise.all(free).then(() => 'answered'), sleep(3000).then(() => 'held back')]);
      expect(outcome, 'the free room\'s sends while the other room is held').to.equal('answered');
      for (const answer of await Promise.all(free)) expect(answer.errors, JSON.stringify(answer.errors)).to.equal(undefined);
      await held.release();
      for (const answer of await Promise.all([stuck, stuckToo])) expect(answer.errors, JSON.stringify(answer.errors)).to.equal(undefined);
      expect(await seqsOf(server, stuckRoom)).to.deep.equal([1, 2]);
      expect(await seqsOf(server, freeRoom)).to.deep.equal([1, 2]);
    } finally {
      await held.release().catch(() => {});
    }
  });

  it('stores nothing of a banned member after the ban commits, of 40 parallel sends of 20 members in batches racing bans of 10', async function () {
    this.timeout(60_000);
    const server = await busyServer();
    const { companyId, owner, roomId } = await staffedRoom(server.url);
    const members = await Promise.all(Array.from({ length: 20 }, () => newUser(server.url, { companyId })));
    await ok(server.url, `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`, { r: roomId, u: members.map((m) => m.id) }, owner.token);
    const before = await batchedSends(server);
    const sends = [0, 1].flatMap((round) => members.map((user) => sendAs(server, user, roomId, `race ${round}`)));
    await sleep(5);
    await Promise.all(members.slice(0, 10).map((user) => ok(server.url, BAN, { r: roomId, u: user.id }, owner.token)));
    const answers = await Promise.all(sends);
    for (const a of answers) if (a.errors) expect(codeOf(a)).to.equal('NOT_FOUND');
    const [row] = await server.app.db.query<{ after: number; accepted: number }>(
      `SELECT count(*) FILTER (WHERE m.created_at >= rm.banned_at)::int AS after, count(*)::int AS accepted
       FROM messages m JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = m.sender_id WHERE m.room_id = $1`,
      [roomId],
    );
    expect(row.after, 'messages stored after their sender\'s ban').to.equal(0);
    expect(row.accepted).to.equal(answers.filter((a) => !a.errors).length);
    expect(await seqsOf(server, roomId)).to.deep.equal(oneTo(row.accepted));
    expect((await batchedSends(server)) - before).to.be.at.least(2);
  });

  it('sends each plain send alone, at once, with SEND_BATCH_CONCURRENCY=0', async () => {
    const server = await startServer({ env: { SEND_BATCH_CONCURRENCY: '0', MESSAGE_RATE_LIMIT: '1000/10' } });
    const owner = await newUser(server.url);
    const users = await Promise.all(Array.from({ length: 10 }, () => newUser(server.url)));
    const roomId = await groupRoom(server.url, owner, users);
    const answers = await Promise.all(users.map((user) => sendAs(server, user, roomId, 'alone')));
    for (const a of answers) expect(a.errors).to.equal(undefined);
    expect(await seqsOf(server, roomId)).to.deep.equal(oneTo(10));
    expect(await batchedSends(server)).to.equal(0);
  });
});
