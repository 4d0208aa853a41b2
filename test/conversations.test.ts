import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { errorCode, gql, ok, type TestUser, newUser } from './support/client';
import { directRoom, groupRoom, send, staffedRoom } from './support/factories';
import { countRows, startServer, wsClient, type TestServer } from './support/server';
import { collect, ready, sleep, waitFor } from './support/ws';
import { DELETE } from './support/operations';

/** Threads, mentions, read receipts, pins and edit history. */

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq parent { id } alsoInRoom mentions { id } } }`;
const MESSAGE = `query($id: ID!) { message(id: $id) {
  id content isDeleted replyCount lastReplyAt version pinnedAt pinnedBy { id }
  threadParticipants { id } mentions { id } edits { content replacedAt } readCount readBy { id }
} }`;
const HISTORY = `query($r: ID!, $limit: Int) { messages(roomId: $r, limit: $limit) { id content } }`;
const EDIT = `mutation($id: ID!, $c: String!, $m: [ID!]) { editMessage(id: $id, content: $c, mentionIds: $m) { id content mentions { id } } }`;
const PIN = `mutation($id: ID!) { pinMessage(id: $id) { id pinnedAt pinnedBy { id } version } }`;
const UNPIN = `mutation($id: ID!) { unpinMessage(id: $id) { id pinnedAt pinnedBy { id } version } }`;
const READ = `mutation($r: ID!, $at: DateTime) { markRoomRead(roomId: $r, at: $at) { lastReadAt } }`;

async function reply(server: TestServer, user: TestUser, roomId: string, parentId: string, content: string, extra: Record<string, unknown> = {}) {
  return (await ok(server.url, SEND, { input: { roomId, content, parentId, ...extra } }, user.token)).sendMessage as { id: string; seq: number; parent: { id: string } };
}

async function message(server: TestServer, user: TestUser, id: string) {
  return (await ok(server.url, MESSAGE, { id }, user.token)).message;
}

describe('conversations', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer({ env: { MESSAGE_RATE_LIMIT: '100000/10', EDIT_RATE_LIMIT: '100000/10', PIN_RATE_LIMIT: '100000/10' } });
  });

  describe('threads', () => {
    it("gives a reply the room's next seq, delivers it with its parent, and keeps it out of history, lastMessage and unread counts", async () => {
      const { owner, member, roomId } = await staffedRoom(server.url);
      const root = await send(server.url, owner, roomId, 'root');
      const inbox = collect(wsClient(server, member.token), `subscription($r: ID) { messageAdded(roomId: $r) { id seq parent { id } } }`, { r: roomId });
      const updates = collect(wsClient(server, member.token), `subscription($r: ID) { messageUpdated(roomId: $r) { id replyCount } }`, { r: roomId });
      await ready([inbox], () => send(server.url, owner, roomId, 'probe'));
      await ok(server.url, READ, { r: roomId }, member.token);
      await sleep(5);
      const [{ last_seq: before }] = await server.app.db.query<{ last_seq: number }>(`SELECT last_seq FROM rooms WHERE id = $1`, [roomId]);
      const first = await reply(server, owner, roomId, root.id, 'in the thread');
      const shown = await reply(server, owner, roomId, root.id, 'also in the room', { alsoInRoom: true });
      expect([first.seq, shown.seq]).to.deep.equal([before + 1, before + 2]);
      await waitFor(() => inbox.data.filter((d) => d.messageAdded.parent).length >= 2, 5000, 'the replies');
      expect(inbox.data.filter((d) => d.messageAdded.parent).map((d) => d.messageAdded)).to.deep.equal([
        { id: first.id, seq: before + 1, parent: { id: root.id } },
        { id: shown.id, seq: before + 2, parent: { id: root.id } },
      ]);
      await waitFor(() => updates.data.some((d) => d.messageUpdated.id === root.id && d.messageUpdated.replyCount === 2), 5000, 'the root update');

      const history = (await ok(server.url, HISTORY, { r: roomId }, member.token)).messages.map((m: { content: string }) => m.content);
      expect(history.filter((c: string) => c !== 'probe')).to.deep.equal(['also in the room', 'root']);
      const { room } = await ok(server.url, `query($id: ID!) { room(id: $id) { lastMessage { id } unreadCount } }`, { id: roomId }, member.token);
      expect(room).to.deep.equal({ lastMessage: { id: shown.id }, unreadCount: 1 });
      const threadPage = (await ok(server.url, `query($p: ID!) { thread(parentId: $p) { id } }`, { p: root.id }, member.token)).thread;
      expect(threadPage.map((m: { id: string }) => m.id)).to.deep.equal([shown.id, first.id]);
      const older = (await ok(server.url, `query($p: ID!, $b: ID) { thread(parentId: $p, limit: 1, before: $b) { id } }`, { p: root.id, b: shown.id }, member.token)).thread;
      expect(older.map((m: { id: string }) => m.id)).to.deep.equal([first.id]);
    });

    it("keeps the root's counters right under 20 parallel replies and parallel deletions of replies", async function () {
      this.timeout(60_000);
      const owner = await newUser(server.url);
      const people = await Promise.all(Array.from({ length: 12 }, async () => newUser(server.url)));
      const roomId = await groupRoom(server.url, owner, people);
      const root = await send(server.url, owner, roomId, 'root');
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => reply(server, people[i % 12], roomId, root.id, `reply ${i}`)));
      let state = await message(server, owner, root.id);
      expect(state.replyCount).to.equal(20);
      // Reply i was sent by people[i % 12]: the first ten distinct authors by seq.
      const authorsBySeq = replies.map((r, i) => ({ seq: r.seq, author: people[i % 12].id })).sort((a, b) => a.seq - b.seq);
      const firstTen = [...new Set(authorsBySeq.map((a) => a.author))].slice(0, 10);
      expect(state.threadParticipants.map((u: { id: string }) => u.id)).to.deep.equal(firstTen);
      const bySeq = replies.map((r, i) => ({ ...r, author: people[i % 12] })).sort((a, b) => a.seq - b.seq);
      const doomed = bySeq.slice(-5);
      await Promise.all(doomed.map((r) => ok(server.url, DELETE, { id: r.id }, r.author.token)));
      state = await message(server, owner, root.id);
      expect(state.replyCount).to.equal(15);
      const [expected] = await server.app.db.query<{ at: string }>(
        `SELECT max(created_at) AS at FROM messages WHERE parent_id = $1 AND NOT is_deleted`,
        [root.id],
      );
      expect(state.lastReplyAt).to.equal(expected.at);
      // Deleting a reply again changes nothing.
      await ok(server.url, DELETE, { id: doomed[0].id }, owner.token);
      expect((await message(server, owner, root.id)).replyCount).to.equal(15);
    });

    it('lists thread participants in order of their first reply, without deleted replies', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      const root = await send(server.url, owner, roomId, 'root');
      await reply(server, member, roomId, root.id, 'm1');
      const adminReply = await reply(server, admin, roomId, root.id, 'a1');
      await reply(server, member, roomId, root.id, 'm2');
      expect((await message(server, owner, root.id)).threadParticipants).to.deep.equal([{ id: member.id }, { id: admin.id }]);
      await ok(server.url, DELETE, { id: adminReply.id }, admin.token);
      expect((await message(server, owner, root.id)).threadParticipants).to.deep.equal([{ id: member.id }]);
    });

    it('refuses a parent that is a reply, deleted, or of another room (BAD_USER_INPUT), or not visible (NOT_FOUND), storing nothing', async () => {
      const { owner, member, roomId } = await staffedRoom(server.url);
      const root = await send(server.url, owner, roomId, 'root');
      const aReply = await reply(server, owner, roomId, root.id, 'reply');
      const gone = await send(server.url, owner, roomId, 'gone');
      await ok(server.url, DELETE, { id: gone.id }, owner.token);
      const otherRoom = await groupRoom(server.url, owner, [member], 'Other');
      const elsewhere = await send(server.url, owner, otherRoom, 'elsewhere');
      const stranger = await newUser(server.url);
      const hiddenRoom = await groupRoom(server.url, stranger, [], 'Hidden');
      const hidden = await send(server.url, stranger, hiddenRoom, 'hidden');
      const before = await countRows(server, `SELECT count(*)::int AS n FROM messages`);
      const sendWith = (parentId: string) => errorCode(server.url, SEND, { input: { roomId, content: 'x', parentId } }, member.token);
      expect(await sendWith(aReply.id)).to.equal('BAD_USER_INPUT');
      expect(await sendWith(gone.id)).to.equal('BAD_USER_INPUT');
      expect(await sendWith(elsewhere.id)).to.equal('BAD_USER_INPUT');
      expect(await sendWith(hidden.id)).to.equal('NOT_FOUND');
      expect(await sendWith(randomUUID())).to.equal('NOT_FOUND');
      expect(await sendWith('not-an-id')).to.equal('BAD_USER_INPUT');
      expect(await countRows(server, `SELECT count(*)::int AS n FROM messages`)).to.equal(before);
      expect((await message(server, owner, root.id)).replyCount).to.equal(1);
    });

    it('keeps the replies when their root is deleted (the root reads as deleted)', async () => {
      const { owner, member, roomId } = await staffedRoom(server.url);
      const root = await send(server.url, owner, roomId, 'root');
      const r = await reply(server, member, roomId, root.id, 'still here');
      await ok(server.url, DELETE, { id: root.id }, owner.token);
      const page = (await ok(server.url, `query($p: ID!) { thread(parentId: $p) { id content parent { id isDeleted content } } }`, { p: root.id }, member.token)).thread;
      expect(page).to.deep.equal([{ id: r.id, content: 'still here', parent: { id: root.id, isDeleted: true, content: null } }]);
    });
  });

  describe('mentions', () => {
    it('lists mentions, counts unread ones for the mentioned, pages mentions across rooms, and forgets them with the message', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      const otherRoom = await groupRoom(server.url, admin, [member], 'Other');
      const m1 = (await ok(server.url, SEND, { input: { roomId, content: 'hey @member @admin', mentionIds: [member.id, admin.id, member.id] } }, owner.token)).sendMessage;
      expect(m1.mentions).to.deep.equal([{ id: member.id }, { id: admin.id }]);
      const m2 = (await ok(server.url, SEND, { input: { roomId: otherRoom, content: 'ping @member', mentionIds: [member.id] } }, admin.token)).sendMessage;
      // Mentioning yourself is allowed and ignored for counts.
      await ok(server.url, SEND, { input: { roomId, content: 'note to self', mentionIds: [member.id] } }, member.token);
      const counts = async () =>
        Object.fromEntries(
          (await ok(server.url, `{ rooms { items { id unreadMentionCount } } }`, {}, member.token)).rooms.items.map((r: { id: string; unreadMentionCount: number }) => [r.id, r.unreadMentionCount]),
        );
      expect(await counts()).to.deep.equal({ [roomId]: 1, [otherRoom]: 1 });
      const page = (await ok(server.url, `{ mentions(limit: 10) { id } }`, {}, member.token)).mentions.map((m: { id: string }) => m.id);
      expect(page).to.include.members([m1.id, m2.id]);
      expect(page.indexOf(m2.id), 'newest first').to.be.below(page.indexOf(m1.id));
      const older = (await ok(server.url, `query($b: ID) { mentions(limit: 10, before: $b) { id } }`, { b: m2.id }, member.token)).mentions.map((m: { id: string }) => m.id);
      expect(older).to.deep.equal(page.slice(page.indexOf(m2.id) + 1));

      await ok(server.url, READ, { r: otherRoom }, member.token);
      expect(await counts()).to.deep.equal({ [roomId]: 1, [otherRoom]: 0 });
      await ok(server.url, DELETE, { id: m1.id }, owner.token);
      expect(await counts()).to.deep.equal({ [roomId]: 0, [otherRoom]: 0 });
      expect((await message(server, member, m1.id)).mentions).to.deep.equal([]);
      expect((await ok(server.url, `{ mentions(limit: 10) { id } }`, {}, member.token)).mentions.map((m: { id: string }) => m.id)).not.to.include(m1.id);
    });

    it('replaces mentions on an edit with mentionIds and keeps them without', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      const m = (await ok(server.url, SEND, { input: { roomId, content: 'hi @member', mentionIds: [member.id] } }, owner.token)).sendMessage;
      expect((await ok(server.url, EDIT, { id: m.id, c: 'hi again' }, owner.token)).editMessage.mentions).to.deep.equal([{ id: member.id }]);
      expect((await ok(server.url, EDIT, { id: m.id, c: 'hi @admin @member', m: [admin.id, member.id] }, owner.token)).editMessage.mentions).to.deep.equal([
        { id: admin.id },
        { id: member.id },
      ]);
      expect((await ok(server.url, EDIT, { id: m.id, c: 'nobody', m: [] }, owner.token)).editMessage.mentions).to.deep.equal([]);
    });

    it('refuses mentions of users who are not active members, more than 50, or malformed (BAD_USER_INPUT), storing nothing', async () => {
      const { owner, member, stranger, roomId, companyId } = await staffedRoom(server.url);
      const left = await newUser(server.url, { companyId });
      await ok(server.url, `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id } }`, { r: roomId, u: [left.id] }, owner.token);
      await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: left.id }, owner.token);
      const target = await send(server.url, owner, roomId, 'to edit');
      const before = await countRows(server, `SELECT count(*)::int AS n FROM messages`);
      for (const mentionIds of [[stranger.id], [left.id], [randomUUID()], ['nope'], Array.from({ length: 51 }, () => randomUUID())]) {
        expect(await errorCode(server.url, SEND, { input: { roomId, content: 'x', mentionIds } }, member.token)).to.equal('BAD_USER_INPUT');
        expect(await errorCode(server.url, EDIT, { id: target.id, c: 'edited', m: mentionIds }, owner.token)).to.equal('BAD_USER_INPUT');
      }
      expect(await countRows(server, `SELECT count(*)::int AS n FROM messages`)).to.equal(before);
      expect(await countRows(server, `SELECT count(*)::int AS n FROM message_mentions WHERE room_id = $1`, [roomId])).to.equal(0);
      expect((await message(server, owner, target.id)).content).to.equal('to edit');
    });
  });

  describe('read receipts', () => {
    it('shows who has read what, and pushes receipts only when a position moves forward', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      const m = await send(server.url, owner, roomId, 'read me');
      const receipts = collect(wsClient(server, owner.token), `subscription($r: ID!) { readReceipt(roomId: $r) { user { id } lastReadAt room { id } } }`, { r: roomId });
      await sleep(300);
      expect((await message(server, owner, m.id)).readCount).to.equal(0);
      const read = (await ok(server.url, READ, { r: roomId }, member.token)).markRoomRead.lastReadAt;
      await waitFor(() => receipts.data.length === 1, 5000, 'the receipt');
      expect(receipts.data[0].readReceipt).to.deep.equal({ user: { id: member.id }, lastReadAt: read, room: { id: roomId } });
      // Not forward: an earlier time, or the same position again, is no news.
      await ok(server.url, READ, { r: roomId, at: new Date(Date.parse(read) - 1).toISOString() }, member.token);
      await ok(server.url, READ, { r: roomId, at: read }, member.token);
      expect(await errorCode(server.url, READ, { r: randomUUID() }, member.token)).to.equal('NOT_FOUND');
      await sleep(300);
      expect(receipts.data).to.have.length(1);
      await ok(server.url, READ, { r: roomId }, admin.token);
      await waitFor(() => receipts.data.length === 2, 5000, 'the second receipt');

      const state = await message(server, owner, m.id);
      expect(state.readCount).to.equal(2);
      expect(state.readBy).to.deep.equal([{ id: member.id }, { id: admin.id }]);
      expect((await ok(server.url, `query($id: ID!) { message(id: $id) { readBy(limit: 1) { id } } }`, { id: m.id }, owner.token)).message.readBy).to.deep.equal([{ id: member.id }]);
      for (const limit of [0, 101]) expect(await errorCode(server.url, `query($id: ID!, $l: Int) { message(id: $id) { readBy(limit: $l) { id } } }`, { id: m.id, l: limit }, owner.token)).to.equal('BAD_USER_INPUT');
      const { room } = await ok(server.url, `query($id: ID!) { room(id: $id) { readReceipts { user { id } lastReadAt } } }`, { id: roomId }, owner.token);
      expect(room.readReceipts.map((r: { user: { id: string } }) => r.user.id).sort()).to.deep.equal([member.id, admin.id].sort());
    });

    it('reads a history page with replyCount, mentions, readCount and pinnedAt, and thread and mentions pages, in a constant number of statements', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      for (let i = 0; i < 30; i++) {
        // Mentioned against the ids' order: a list must keep the order they were mentioned in.
        const m = (await ok(server.url, SEND, { input: { roomId, content: `m${i}`, mentionIds: [member.id, admin.id].sort().reverse() } }, owner.token)).sendMessage;
        if (i % 5 === 0) await reply(server, admin, roomId, m.id, `r${i}`, { mentionIds: [member.id] });
        if (i % 7 === 0) await ok(server.url, PIN, { id: m.id }, owner.token);
      }
      await ok(server.url, READ, { r: roomId }, member.token);
      const FULL = `query($r: ID!, $l: Int) { messages(roomId: $r, limit: $l) { id replyCount lastReplyAt pinnedAt mentions { id displayName } readCount readBy { id } } }`;
      const counts: number[] = [];
      for (const limit of [5, 30]) {
        const res = await gql(server.url, FULL, { r: roomId, l: limit }, owner.token);
        expect(res.errors).to.equal(undefined);
        expect(res.data?.messages).to.have.length(limit);
        counts.push(res.extensions?.sqlStatements as number);
      }
      expect(counts[1], JSON.stringify(counts)).to.equal(counts[0]);
      expect(counts[0]).to.be.at.most(2);
      // Without readBy (which lists the readers), the page is one statement, and says what each message says alone.
      // The sender has read too: their own messages must not count them.
      await ok(server.url, READ, { r: roomId }, owner.token);
      const LEAN = `query($r: ID!) { messages(roomId: $r, limit: 30) { id replyCount pinnedAt mentions { id displayName } readCount } }`;
      const lean = await gql(server.url, LEAN, { r: roomId }, owner.token);
      expect(lean.extensions?.sqlStatements).to.equal(1);
      const ONE = `query($id: ID!) { message(id: $id) { id replyCount pinnedAt mentions { id displayName } readCount } }`;
      const alone = [];
      for (const m of lean.data?.messages ?? []) alone.push((await ok(server.url, ONE, { id: m.id }, owner.token)).message);
      expect(lean.data?.messages).to.deep.equal(alone);
      expect(alone.some((m: { readCount: number }) => m.readCount > 0)).to.equal(true);
      expect(alone.some((m: { mentions: unknown[] }) => m.mentions.length === 2)).to.equal(true);
      const root = (await ok(server.url, HISTORY, { r: roomId, limit: 30 }, owner.token)).messages.at(-1).id;
      for (const [query, variables] of [
        [`query($p: ID!) { thread(parentId: $p) { id sender { displayName } mentions { id } readCount } }`, { p: root }],
        [`query($l: Int) { mentions(limit: $l) { id room { name } sender { displayName } mentions { id } } }`, { l: 5 }],
        [`query($l: Int) { mentions(limit: $l) { id room { name } sender { displayName } mentions { id } } }`, { l: 40 }],
      ] as const) {
        const res = await gql(server.url, query, variables, member.token);
        expect(res.errors).to.equal(undefined);
        expect(res.extensions?.sqlStatements, query).to.be.at.most(4);
      }
    });
  });

  describe('pins and edit history', () => {
    it('lets the OWNER and ADMINs pin in a GROUP room (not a MEMBER), idempotently, with a new version for each change', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      const a = await send(server.url, member, roomId, 'a');
      const b = await send(server.url, member, roomId, 'b');
      expect(await errorCode(server.url, PIN, { id: a.id }, member.token)).to.equal('FORBIDDEN');
      const pinned = (await ok(server.url, PIN, { id: a.id }, admin.token)).pinMessage;
      expect(pinned.pinnedBy).to.deep.equal({ id: admin.id });
      const again = (await ok(server.url, PIN, { id: a.id }, owner.token)).pinMessage;
      expect(again).to.deep.equal(pinned);
      await sleep(5);
      await ok(server.url, PIN, { id: b.id }, owner.token);
      const { room } = await ok(server.url, `query($id: ID!) { room(id: $id) { pinnedMessages { id } } }`, { id: roomId }, member.token);
      expect(room.pinnedMessages).to.deep.equal([{ id: b.id }, { id: a.id }]);
      const unpinned = (await ok(server.url, UNPIN, { id: a.id }, owner.token)).unpinMessage;
      expect(unpinned).to.include({ pinnedAt: null, pinnedBy: null });
      expect(unpinned.version > pinned.version).to.equal(true);
      expect((await ok(server.url, UNPIN, { id: a.id }, owner.token)).unpinMessage.version).to.equal(unpinned.version);
    });

    it('lets both members of a DIRECT room pin; never a reply or a deleted message; deleting unpins', async () => {
      const alice = await newUser(server.url);
      const bob = await newUser(server.url);
      const dm = await directRoom(server.url, alice, bob);
      const m = await send(server.url, alice, dm, 'pin me');
      await ok(server.url, PIN, { id: m.id }, bob.token);
      const r = await reply(server, alice, dm, m.id, 'a reply');
      expect(await errorCode(server.url, PIN, { id: r.id }, alice.token)).to.equal('BAD_USER_INPUT');
      await ok(server.url, DELETE, { id: m.id }, alice.token);
      expect((await message(server, bob, m.id)).pinnedAt).to.equal(null);
      expect(await errorCode(server.url, PIN, { id: m.id }, bob.token)).to.equal('BAD_USER_INPUT');
      expect((await ok(server.url, `query($id: ID!) { room(id: $id) { pinnedMessages { id } } }`, { id: dm }, alice.token)).room.pinnedMessages).to.deep.equal([]);
    });

    it('holds at most 50 pins per room, even when 60 pins race', async () => {
      const { owner, roomId } = await staffedRoom(server.url);
      const messages = [];
      for (let i = 0; i < 60; i++) messages.push(await send(server.url, owner, roomId, `p${i}`));
      const results = await Promise.all(messages.map((m) => gql(server.url, PIN, { id: m.id }, owner.token)));
      const refused = results.filter((r) => r.errors);
      expect(refused.map((r) => r.errors?.[0].extensions.code)).to.deep.equal(Array(10).fill('BAD_USER_INPUT'));
      expect(await countRows(server, `SELECT count(*)::int AS n FROM messages WHERE room_id = $1 AND pinned_at IS NOT NULL`, [roomId])).to.equal(50);
    });

    it('keeps each replaced content, oldest first, and wipes them with the message', async () => {
      const { member, roomId } = await staffedRoom(server.url);
      const m = await send(server.url, member, roomId, 'first');
      await ok(server.url, EDIT, { id: m.id, c: 'second' }, member.token);
      await ok(server.url, EDIT, { id: m.id, c: 'third' }, member.token);
      const state = await message(server, member, m.id);
      expect(state.content).to.equal('third');
      expect(state.edits.map((e: { content: string }) => e.content)).to.deep.equal(['first', 'second']);
      expect(state.edits[0].replacedAt < state.edits[1].replacedAt).to.equal(true);
      await ok(server.url, DELETE, { id: m.id }, member.token);
      expect((await message(server, member, m.id)).edits).to.deep.equal([]);
      expect(await countRows(server, `SELECT count(*)::int AS n FROM message_edits WHERE message_id = $1`, [m.id])).to.equal(0);
    });

    it('reports pins and reply counts through the changes feed', async () => {
      const { owner, member, roomId } = await staffedRoom(server.url);
      const root = await send(server.url, owner, roomId, 'root');
      const since = (await ok(server.url, `{ changes { cursor } }`, {}, member.token)).changes.cursor;
      await ok(server.url, PIN, { id: root.id }, owner.token);
      const r = await reply(server, member, roomId, root.id, 'reply');
      const batch = (await ok(server.url, `query($s: String) { changes(since: $s) { messages { id replyCount pinnedAt } } }`, { s: since }, member.token)).changes;
      const byId = Object.fromEntries(batch.messages.map((m: { id: string }) => [m.id, m]));
      expect(byId[root.id]).to.include({ replyCount: 1 });
      expect(byId[root.id].pinnedAt).to.be.a('string');
      expect(byId[r.id]).to.include({ replyCount: 0 });
    });
  });
  describe('bounds: no field works harder as a room or a history grows', () => {
    /** A room of `size` members (besides the staff), every one of them having read everything, seeded straight in the database. */
    async function crowdedRoom(size: number) {
      const staffed = await staffedRoom(server.url);
      const posted = await send(server.url, staffed.owner, staffed.roomId, 'read by the crowd');
      await server.app.db.query(
        `WITH crowd AS (INSERT INTO users (id, display_name) SELECT gen_random_uuid(), 'crowd ' || g FROM generate_series(1, $2) g RETURNING id)
         INSERT INTO room_members (room_id, user_id, role, last_read_at) SELECT $1, id, 'MEMBER', now() + interval '1 second' FROM crowd`,
        [staffed.roomId, size],
      );
      return { ...staffed, posted };
    }

    it('reads readBy(limit) and readCount at their bounds: a room of 400 readers costs what a room of 40 does', async () => {
      const READS = `query($r: ID!) { messages(roomId: $r, limit: 5) { id readCount ${Array.from({ length: 5 }, (_, i) => `r${i}: readBy(limit: 1) { id }`).join(' ')} } }`;
      const ONE = `query($id: ID!) { message(id: $id) { readCount readBy(limit: 2) { id } } }`;
      const work: { statements: number; rows: number }[] = [];
      for (const size of [40, 400]) {
        const { owner, roomId, posted } = await crowdedRoom(size);
        const page = await gql(server.url, READS, { r: roomId }, owner.token);
        expect(page.errors).to.equal(undefined);
        expect(page.data!.messages[0].readCount).to.equal(size);
        expect(page.data!.messages[0].r4).to.have.length(1);
        const one = await gql(server.url, ONE, { id: posted.id }, owner.token);
        expect(one.data!.message).to.deep.include({ readCount: size });
        expect(one.data!.message.readBy).to.have.length(2);
        work.push({ statements: page.extensions!.sqlStatements! + one.extensions!.sqlStatements!, rows: page.extensions!.sqlRows! + one.extensions!.sqlRows! });
      }
      expect(work[1], 'statements and rows read, 400 readers vs 40').to.deep.equal(work[0]);
    });

    it('pages a room of 450 members with members(limit, after), reading no more than the page, and refuses a bad limit or after', async () => {
      const { owner, roomId } = await crowdedRoom(450);
      const PAGE = `query($r: ID!, $l: Int, $a: ID) { room(id: $r) { members(limit: $l, after: $a) { id user { id } } } }`;
      const seen: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const res = await gql(server.url, PAGE, { r: roomId, l: 200, a: after }, owner.token);
        expect(res.errors).to.equal(undefined);
        const page = res.data!.room.members as { id: string }[];
        expect(res.extensions!.sqlRows, 'rows read for one page').to.be.at.most(page.length + 2);
        seen.push(...page.map((m) => m.id));
        if (page.length < 200) break;
        after = page[page.length - 1].id;
      }
      expect(seen).to.have.length(453);
      expect(new Set(seen).size).to.equal(453);
      const first = (await ok(server.url, `query($r: ID!) { room(id: $r) { members { id } } }`, { r: roomId }, owner.token)).room.members;
      expect(first, 'the default page is 100').to.have.length(100);
      for (const variables of [{ l: 0 }, { l: 501 }, { a: 'nope' }, { a: randomUUID() }]) {
        expect(await errorCode(server.url, PAGE, { r: roomId, ...variables }, owner.token), JSON.stringify(variables)).to.equal('BAD_USER_INPUT');
      }
    });

    it('lists readReceipts most recent first, at most `limit` (1-500)', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      await send(server.url, owner, roomId, 'read me');
      for (const reader of [member, admin, owner]) {
        await ok(server.url, READ, { r: roomId }, reader.token);
        await sleep(5);
      }
      const RECEIPTS = `query($r: ID!, $l: Int) { room(id: $r) { readReceipts(limit: $l) { user { id } } } }`;
      const all = (await ok(server.url, RECEIPTS, { r: roomId }, owner.token)).room.readReceipts.map((r: { user: { id: string } }) => r.user.id);
      expect(all).to.deep.equal([owner.id, admin.id, member.id]);
      expect((await ok(server.url, RECEIPTS, { r: roomId, l: 2 }, owner.token)).room.readReceipts).to.have.length(2);
      for (const l of [0, 501]) expect(await errorCode(server.url, RECEIPTS, { r: roomId, l }, owner.token)).to.equal('BAD_USER_INPUT');
    });

    it('never counts a removed member as a reader', async () => {
      const { owner, admin, member, roomId } = await staffedRoom(server.url);
      const m = await send(server.url, owner, roomId, 'read me');
      await ok(server.url, READ, { r: roomId }, member.token);
      await ok(server.url, READ, { r: roomId }, admin.token);
      expect((await message(server, owner, m.id)).readCount).to.equal(2);
      await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: member.id }, owner.token);
      const state = await message(server, owner, m.id);
      expect(state.readCount).to.equal(1);
      expect(state.readBy).to.deep.equal([{ id: admin.id }]);
      const page = (await ok(server.url, `query($r: ID!) { messages(roomId: $r) { readCount } }`, { r: roomId }, owner.token)).messages;
      expect(page[0].readCount, 'the history statement counts the same').to.equal(1);
    });

    it('keeps the 100 most recent earlier versions of a message, and lists the most recent `limit` (default 20) oldest first', async () => {
      const { member, roomId } = await staffedRoom(server.url);
      const m = await send(server.url, member, roomId, 'v0');
      for (let i = 1; i <= 105; i++) await ok(server.url, EDIT, { id: m.id, c: `v${i}` }, member.token);
      expect(await countRows(server, `SELECT count(*)::int AS n FROM message_edits WHERE message_id = $1`, [m.id])).to.equal(100);
      const EDITS = `query($id: ID!, $l: Int) { message(id: $id) { edits(limit: $l) { content } } }`;
      const contents = async (l?: number) => (await ok(server.url, EDITS, { id: m.id, l }, member.token)).message.edits.map((e: { content: string }) => e.content);
      expect(await contents()).to.deep.equal(Array.from({ length: 20 }, (_, i) => `v${85 + i}`));
      expect(await contents(100)).to.deep.equal(Array.from({ length: 100 }, (_, i) => `v${5 + i}`));
      expect(await contents(1)).to.deep.equal(['v104']);
      for (const l of [0, 101]) expect(await errorCode(server.url, EDITS, { id: m.id, l }, member.token)).to.equal('BAD_USER_INPUT');
    });
  });

  describe('limits on repeatable writes', () => {
    it('rate limits pinMessage and unpinMessage per user and room (PIN_RATE_LIMIT)', async () => {
      const limited = await startServer({ env: { PIN_RATE_LIMIT: '3/60' } });
      const { owner, roomId } = await staffedRoom(limited.url);
      const m = await send(limited.url, owner, roomId, 'pin me');
      for (const doc of [PIN, UNPIN, PIN]) await ok(limited.url, doc, { id: m.id }, owner.token);
      const refused = await gql(limited.url, UNPIN, { id: m.id }, owner.token);
      expect(refused.errors?.[0].extensions).to.deep.include({ code: 'RATE_LIMITED' });
      expect(refused.errors?.[0].extensions.retryAfter).to.be.within(1, 60);
      expect(refused.status).to.equal(429);
      const [row] = await limited.app.db.query<{ pinned: boolean }>(`SELECT pinned_at IS NOT NULL AS pinned FROM messages WHERE id = $1`, [m.id]);
      expect(row.pinned, 'the refused unpin changed nothing').to.equal(true);
    });

    it("sends a member's read receipts at most once a second, the latest position last", async () => {
      const { owner, member, roomId } = await staffedRoom(server.url);
      const receipts = collect(wsClient(server, owner.token), `subscription($r: ID!) { readReceipt(roomId: $r) { user { id } lastReadAt } }`, { r: roomId });
      await sleep(300);
      let last = '';
      for (let i = 0; i < 30; i++) {
        await send(server.url, owner, roomId, `m${i}`);
        last = (await ok(server.url, READ, { r: roomId }, member.token)).markRoomRead.lastReadAt;
      }
      await sleep(1300);
      expect(receipts.data.length, 'receipts for 30 moves within about a second').to.be.within(2, 3);
      expect(receipts.data.at(-1).readReceipt).to.deep.equal({ user: { id: member.id }, lastReadAt: last });
    });

    it('refuses a read position before the room was created or outside the years 1970-9999, storing nothing; later is clamped to now', async () => {
      const { owner, roomId } = await staffedRoom(server.url);
      for (const at of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '2020-01-01T00:00:00Z']) {
        expect(await errorCode(server.url, READ, { r: roomId, at }, owner.token), at).to.equal('BAD_USER_INPUT');
      }
      expect(await countRows(server, `SELECT count(*)::int AS n FROM room_members WHERE room_id = $1 AND last_read_at IS NOT NULL`, [roomId])).to.equal(0);
      const later = (await ok(server.url, READ, { r: roomId, at: '9999-12-31T23:59:59Z' }, owner.token)).markRoomRead.lastReadAt;
      expect(Date.parse(later)).to.be.below(Date.now() + 5_000);
      // Everything that reads read positions still answers.
      const state = await ok(server.url, `query($r: ID!) { room(id: $r) { readReceipts { lastReadAt } members { lastReadAt } } rooms { total } }`, { r: roomId }, owner.token);
      expect(state.room.readReceipts).to.deep.equal([{ lastReadAt: later }]);
    });
  });

  describe('threads and mentions follow membership', () => {
    it('tells the thread root of a reply deleted (messageUpdated with its new replyCount)', async () => {
      const { owner, member, roomId } = await staffedRoom(server.url);
      const root = await send(server.url, owner, roomId, 'root');
      const r = await reply(server, member, roomId, root.id, 'a reply');
      const updates = collect(wsClient(server, owner.token), `subscription($r: ID) { messageUpdated(roomId: $r) { id replyCount isDeleted } }`, { r: roomId });
      await sleep(300);
      await ok(server.url, DELETE, { id: r.id }, member.token);
      await waitFor(() => updates.data.some((d) => d.messageUpdated.id === root.id), 5000, "the root's update");
      expect(updates.data.find((d) => d.messageUpdated.id === root.id).messageUpdated).to.deep.equal({ id: root.id, replyCount: 0, isDeleted: false });
    });

    it('leaves out of `mentions` the rooms a user has left, though of their own company', async () => {
      const { owner, member, roomId } = await staffedRoom(server.url);
      const otherRoom = await groupRoom(server.url, owner, [member], 'stays');
      await ok(server.url, SEND, { input: { roomId, content: 'in the room left', mentionIds: [member.id] } }, owner.token);
      const kept = (await ok(server.url, SEND, { input: { roomId: otherRoom, content: 'in the room kept', mentionIds: [member.id] } }, owner.token)).sendMessage;
      await ok(server.url, `mutation($r: ID!, $u: ID!) { removeMember(roomId: $r, userId: $u) }`, { r: roomId, u: member.id }, member.token);
      const { mentions } = await ok(server.url, `{ mentions { id content } }`, {}, member.token);
      expect(mentions).to.deep.equal([{ id: kept.id, content: 'in the room kept' }]);
    });
  });
});
