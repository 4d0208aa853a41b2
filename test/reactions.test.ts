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
  it('returns the message as it is after the change: its new version, from addReaction and removeReaction alike', async () => {
    const { owner, member, roomId } = await staffedRoom(server.url);
    const m = await send(server.url, owner, roomId);
    const VERSIONED = (op: string) => `mutation($id: ID!, $r: String!) { ${op}(messageId: $id, reaction: $r) { version reactions { reaction } } }`;
    const now = async () => (await ok(server.url, `query($id: ID!) { message(id: $id) { version } }`, { id: m.id }, owner.token)).message.version;
    const before = await now();
    const added = (await ok(server.url, VERSIONED('addReaction'), { id: m.id, r: ':ok:' }, member.token)).addReaction;
    expect(added.version).not.to.equal(before);
    expect(added.version).to.equal(await now());
    const removed = (await ok(server.url, VERSIONED('removeReaction'), { id: m.id, r: ':ok:' }, member.token)).removeReaction;
    expect(removed).to.deep.equal({ version: await now(), reactions: [] });
    expect(removed.version).not.to.equal(added.version);
    // Idempotent repeats change nothing, version included.
    expect((await ok(server.url, VERSIONED('removeReaction'), { id: m.id, r: ':ok:' }, member.token)).removeReaction.version).to.equal(removed.version);
  });

  it('holds at most 20 different reactions on a message, exactly, even when 30 new ones race; known ones may still be added', async () => {
    const limited = await startServer({ env: { REACTION_RATE_LIMIT: '100000/10' } });
    const { owner, admin, member, roomId } = await staffedRoom(limited.url);
    const m = await send(limited.url, owner, roomId);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => gql(limited.url, ADD, { id: m.id, r: `:r${i}:` }, [owner, admin, member][i % 3].token)));
    const refused = results.filter((r) => r.errors);
    expect(refused.map((r) => r.errors?.[0].extensions.code)).to.deep.equal(Array(10).fill('BAD_USER_INPUT'));
    const [{ n }] = await limited.app.db.query<{ n: number }>(`SELECT count(DISTINCT reaction)::int AS n FROM message_reactions WHERE message_id = $1`, [m.id]);
    expect(n).to.equal(20);
    // A reaction the message has may still be given by someone else.
    const people = [owner, admin, member];
    const i = results.findIndex((r) => !r.errors);
    const again = await ok(limited.url, ADD, { id: m.id, r: `:r${i}:` }, people[(i + 1) % 3].token);
    expect(again.addReaction.reactions).to.have.length(20);
    expect(again.addReaction.reactions.find((r: { reaction: string }) => r.reaction === `:r${i}:`).count).to.equal(2);
  });
});
