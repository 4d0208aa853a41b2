import { expect } from 'chai';
import { errorCode, gql, ok } from './support/client';
import { send, staffedRoom } from './support/factories';
import { startServer, type TestServer } from './support/server';

const ADD = `mutation($id: ID!, $r: String!) { addReaction(messageId: $id, reaction: $r) { reactions { reaction count reactedByMe users { id } } } }`;
const REMOVE = `mutation($id: ID!, $r: String!) { removeReaction(messageId: $id, reaction: $r) { reactions { reaction count reactedByMe users { id } } } }`;

describe('reactions', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer();
  });

  it('sums reactions per kind in order of first use, with reactedByMe and users', async () => {
    const { owner, admin, member, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId);
    await ok(server.url, ADD, { id: m.id, r: '🎉' }, admin.token);
    await ok(server.url, ADD, { id: m.id, r: ':+1:' }, member.token);
    const { addReaction } = await ok(server.url, ADD, { id: m.id, r: '🎉' }, member.token);
    expect(addReaction.reactions.map((r: { reaction: string; count: number; reactedByMe: boolean }) => [r.reaction, r.count, r.reactedByMe])).to.deep.equal([
      ['🎉', 2, true],
      [':+1:', 1, true],
    ]);
    expect(addReaction.reactions[0].users.map((u: { id: string }) => u.id)).to.deep.equal([admin.id, member.id]);
  });

  it('shows each mutation\'s own result when one request runs several', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId);
    const data = await ok(
      server.url,
      `mutation($id: ID!) {
        a: addReaction(messageId: $id, reaction: "👍") { reactions { reaction count } }
        b: addReaction(messageId: $id, reaction: "🎉") { reactions { reaction count } }
      }`,
      { id: m.id },
      member.token,
    );
    expect(data.a.reactions).to.deep.equal([{ reaction: '👍', count: 1 }]);
    expect(data.b.reactions).to.deep.equal([{ reaction: '👍', count: 1 }, { reaction: '🎉', count: 1 }]);
  });

  it('is idempotent both ways', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId);
    await ok(server.url, ADD, { id: m.id, r: '👍' }, member.token);
    const twice = await ok(server.url, ADD, { id: m.id, r: '👍' }, member.token);
    expect(twice.addReaction.reactions).to.deep.equal([{ reaction: '👍', count: 1, reactedByMe: true, users: [{ id: member.id }] }]);
    const removed = await ok(server.url, REMOVE, { id: m.id, r: '👍' }, member.token);
    expect(removed.removeReaction.reactions).to.deep.equal([]);
    const again = await ok(server.url, REMOVE, { id: m.id, r: '👍' }, member.token);
    expect(again.removeReaction.reactions).to.deep.equal([]);
  });

  it('stores one reaction for 20 parallel identical adds', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId);
    const results = await Promise.all(Array.from({ length: 20 }, () => gql(server.url, ADD, { id: m.id, r: '🔥' }, member.token)));
    expect(results.filter((r) => r.errors)).to.deep.equal([]);
    const rows = await server.app.db.query(`SELECT count(*)::int AS n FROM message_reactions WHERE message_id = $1`, [m.id]);
    expect(rows[0].n).to.equal(1);
  });

  it('refuses deleted messages, non-members and malformed reactions', async () => {
    const { owner, member, stranger, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId);
    expect(await errorCode(server.url, ADD, { id: m.id, r: '👍' }, stranger.token)).to.equal('NOT_FOUND');
    expect(await errorCode(server.url, ADD, { id: m.id, r: 'two words' }, member.token)).to.equal('BAD_USER_INPUT');
    expect(await errorCode(server.url, ADD, { id: m.id, r: 'x'.repeat(33) }, member.token)).to.equal('BAD_USER_INPUT');
    expect(await errorCode(server.url, ADD, { id: m.id, r: '' }, member.token)).to.equal('BAD_USER_INPUT');
    await ok(server.url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: m.id }, owner.token);
    expect(await errorCode(server.url, ADD, { id: m.id, r: '👍' }, member.token)).to.equal('BAD_USER_INPUT');
    expect(await errorCode(server.url, REMOVE, { id: m.id, r: '👍' }, member.token)).to.equal('BAD_USER_INPUT');
  });
});
