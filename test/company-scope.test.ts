import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { asCompany, errorCode, newUser, ok } from './support/client';
import { groupRoom, send, staffedRoom } from './support/factories';
import { countRows, startServer, wsClient } from './support/server';
import { collect, ready, refusal } from './support/ws';

/*
 * Company scope follows the room, not the token: a room belongs to its
 * creator's company, users join it only if they were never seen or were seen
 * with that company, and a token naming another company reads nothing of it.
 */

describe('company scope follows the room, not the token', () => {
  const ADD_MEMBERS = `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id user { id } } }`;
  const CREATE_GROUP = `mutation($name: String!, $ids: [ID!]!) { createGroupChat(input: { name: $name, memberIds: $ids }) { id } }`;
  const HISTORY = `query($r: ID!) { messages(roomId: $r) { id content } }`;
  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content room { id name memberCount } } }`;
  const MESSAGE_ADDED = `subscription($roomId: ID) { messageAdded(roomId: $roomId) { id content } }`;

  it("an owner whose token now names another company cannot bring that company's users in, and they read nothing", async () => {
    const server = await startServer();
    const { owner, roomId } = await staffedRoom(server.url);
    await send(server.url, owner, roomId, 'company secret');
    const elsewhere = randomUUID();
    const stranger = await newUser(server.url, { companyId: elsewhere, name: 'Elsewhere' });
    const ownerElsewhere = await asCompany(owner, elsewhere);

    expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [stranger.id] }, ownerElsewhere)).to.equal('NOT_FOUND');
    expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [stranger.id] }, owner.token)).to.equal('FORBIDDEN');
    expect(await errorCode(server.url, HISTORY, { r: roomId }, stranger.token)).to.equal('NOT_FOUND');
    expect(await countRows(server, `SELECT count(*)::int AS n FROM room_members WHERE room_id = $1 AND user_id = $2`, [roomId, stranger.id])).to.equal(0);
  });

  it("a user whose token names another company stops seeing the old company's rooms; the old company's token sees them again", async () => {
    const server = await startServer();
    const { owner, member, roomId } = await staffedRoom(server.url);
    const moved = await asCompany(member, randomUUID());
    await send(server.url, owner, roomId, 'before the move');

    expect(await errorCode(server.url, `query($id: ID!) { room(id: $id) { id } }`, { id: roomId }, moved)).to.equal('NOT_FOUND');
    expect(await errorCode(server.url, HISTORY, { r: roomId }, moved)).to.equal('NOT_FOUND');
    expect(await errorCode(server.url, SEND, { input: { roomId, content: 'from the new company' } }, moved)).to.equal('NOT_FOUND');
    const inbox = await ok(server.url, `{ rooms { total items { id } } }`, {}, moved);
    expect(inbox.rooms.items.map((r: { id: string }) => r.id)).not.to.include(roomId);

    const live = collect(wsClient(server, moved), MESSAGE_ADDED, { roomId });
    expect(await refusal(live)).to.deep.equal(['NOT_FOUND']);
    // A room of the new company fences the stream: it must be live, and everything sent before the last probe has arrived.
    const movedUser = { ...member, token: moved };
    const ownRoom = await groupRoom(server.url, movedUser, [], 'the new company');
    const everywhere = collect(wsClient(server, moved), MESSAGE_ADDED, {});
    await ready([everywhere], () => send(server.url, movedUser, ownRoom, 'probe'));
    await send(server.url, owner, roomId, 'after the move');
    await ready([everywhere], () => send(server.url, movedUser, ownRoom, 'fence'));
    expect(everywhere.errors).to.deep.equal([]);
    expect(everywhere.data.map((d) => d.messageAdded.content), 'no event of the old company reaches the new token').not.to.include('after the move');

    // Memberships are kept: a token naming the old company again reads the room.
    const back = await asCompany(member, owner.companyId);
    const { messages } = await ok(server.url, HISTORY, { r: roomId }, back);
    expect(messages.map((m: { content: string }) => m.content)).to.deep.equal(['after the move', 'before the move']);
  });

  it('keeps companies apart from both sides: with and without a company, while users never seen may be named by anyone', async () => {
    const server = await startServer();
    const withCompany = await newUser(server.url, { name: 'Has company' });
    const without = await newUser(server.url, { companyId: null, name: 'No company' });
    const neverSeen = randomUUID();

    expect(await errorCode(server.url, CREATE_GROUP, { name: 'x', ids: [withCompany.id] }, without.token)).to.equal('FORBIDDEN');
    expect(await errorCode(server.url, CREATE_GROUP, { name: 'x', ids: [without.id] }, withCompany.token)).to.equal('FORBIDDEN');
    expect(await errorCode(server.url, `mutation($u: ID!) { createDirectChat(userId: $u) { id } }`, { u: without.id }, withCompany.token)).to.equal(
      'FORBIDDEN',
    );
    const theirs = await groupRoom(server.url, without, [], 'company-less');
    expect(await errorCode(server.url, ADD_MEMBERS, { r: theirs, u: [withCompany.id] }, without.token)).to.equal('FORBIDDEN');
    await ok(server.url, CREATE_GROUP, { name: 'a', ids: [neverSeen] }, withCompany.token);
    await ok(server.url, CREATE_GROUP, { name: 'b', ids: [randomUUID()] }, without.token);
  });
});

describe('a refused call stores nothing', () => {
  const ADD_MEMBERS = `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id user { id } } }`;
  const CREATE_GROUP = `mutation($name: String!, $ids: [ID!]!) { createGroupChat(input: { name: $name, memberIds: $ids }) { id } }`;

  it('createGroupChat and addMembers naming 99 new users and one of another company store no user row', async () => {
    const server = await startServer();
    const { owner, roomId } = await staffedRoom(server.url);
    const foreign = await newUser(server.url, { companyId: randomUUID() });
    const users = async () => countRows(server, `SELECT count(*)::int AS n FROM users`);
    const before = await users();
    const fresh = Array.from({ length: 99 }, () => randomUUID());
    expect(await errorCode(server.url, CREATE_GROUP, { name: 'mixed', ids: [...fresh, foreign.id] }, owner.token)).to.equal('FORBIDDEN');
    expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [...fresh, foreign.id] }, owner.token)).to.equal('FORBIDDEN');
    expect(await users()).to.equal(before);
    expect(await countRows(server, `SELECT count(*)::int AS n FROM rooms WHERE name = 'mixed'`)).to.equal(0);
  });
});
