import { expect } from 'chai';
import { makeUser, ok, newUser } from './support/client';
import { groupRoom, send } from './support/factories';
import { startServer } from './support/server';

/**
 * The seed's repository methods that no API operation reaches as such
 * (shared/seed/chat-repository.md), called directly on the running server's
 * repositories, over the same database.
 */
describe('repositories: the seed methods the API does not reach directly', () => {
  it('ChatMemberRepository: ensureExists, getByUser', async () => {
    const server = await startServer();
    const owner = await newUser(server.url);
    const roomA = await groupRoom(server.url, owner, [], 'A');
    const roomB = await groupRoom(server.url, owner, [], 'B');
    const { members } = server.app.repos;
    const mine = await members.getByUser(owner.id);
    expect(mine.map((m) => m.roomId).sort()).to.deep.equal([roomA, roomB].sort());
    expect((await members.ensureExists(mine[0].id)).userId).to.equal(owner.id);
    let error: unknown;
    await members.ensureExists('00000000-0000-4000-8000-000000000000').catch((e) => (error = e));
    expect((error as { code?: string }).code).to.equal('NOT_FOUND');
  });

  it('MessageReactionRepository: getByMessage, getReactionCounts, getUserReactions, findByMessageUserReaction', async () => {
    const server = await startServer();
    const owner = await newUser(server.url);
    const [ann, ben] = await Promise.all([makeUser(), makeUser()]);
    const roomId = await groupRoom(server.url, owner, [ann, ben]);
    const message = await send(server.url, owner, roomId, 'react');
    const react = (token: string, reaction: string) =>
      ok(server.url, `mutation($id: ID!, $r: String!) { addReaction(messageId: $id, reaction: $r) { id } }`, { id: message.id, r: reaction }, token);
    await react(ann.token, '🎉');
    await react(ben.token, '🎉');
    await react(ben.token, ':+1:');
    const { reactions } = server.app.repos;
    expect((await reactions.getByMessage(message.id)).map((r) => r.reaction)).to.deep.equal(['🎉', '🎉', ':+1:']);
    expect([...(await reactions.getReactionCounts(message.id))]).to.deep.equal([['🎉', 2], [':+1:', 1]]);
    expect(await reactions.getUserReactions(message.id, '🎉')).to.deep.equal([ann.id, ben.id]);
    expect((await reactions.findByMessageUserReaction(message.id, ann.id, ':+1:'))).to.equal(null);
  });

  it('ChatMessageRepository and ChatRoomRepository: ensureExists answer NOT_FOUND for unknown ids', async () => {
    const server = await startServer();
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);
    const message = await send(server.url, owner, roomId, 'here');
    const { messages, rooms } = server.app.repos;
    expect((await messages.ensureExists(message.id)).seq).to.equal(1);
    expect((await rooms.ensureExists(roomId)).lastSeq).to.equal(1);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const codes = await Promise.all([messages.ensureExists(unknown), rooms.ensureExists(unknown)].map((p) => p.then(() => 'found', (e) => e.code)));
    expect(codes).to.deep.equal(['NOT_FOUND', 'NOT_FOUND']);
  });
});
