import { expect } from 'chai';
import { gql, ok, type GraphQLResponse, type TestUser, newUser } from './support/client';
import { groupRoom, send } from './support/factories';
import { startServer, type TestServer } from './support/server';

type Expected = 'BAD_USER_INPUT' | 'GRAPHQL_VALIDATION_FAILED';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content metadata } }`;

/** Everything a client can see of the stored rows that bad input could touch. */
async function snapshot(url: string, user: TestUser, roomIds: string[]) {
  const rooms = await ok(
    url,
    `{ rooms(pageSize: 100) { total items { id type name updatedAt lastMessageAt memberCount
        members(activeOnly: false) { user { id displayName } role isActive lastReadAt removedAt } } } }`,
    {},
    user.token,
  );
  const messages: Record<string, unknown> = {};
  for (const roomId of roomIds) {
    messages[roomId] = await ok(
      url,
      `query($r: ID!) { messages(roomId: $r, limit: 200, includeDeleted: true) {
          id seq type content metadata clientId editedAt isDeleted deletedAt
          reactions { reaction count users(limit: 5) { id } } } }`,
      { r: roomId },
      user.token,
    );
  }
  return { rooms, messages };
}

/** Asserts the request failed with the expected code, never as a server error. */
function expectRefused(res: GraphQLResponse, expected: Expected, label: string): void {
  expect(res.status, `${label}: HTTP status`).to.be.below(500);
  expect(res.errors, `${label}: errors`).to.be.an('array').that.is.not.empty;
  const codes = res.errors!.map((e) => e.extensions?.code);
  expect(codes, `${label}: never INTERNAL_SERVER_ERROR`).not.to.include('INTERNAL_SERVER_ERROR');
  expect(codes[0], `${label}: ${JSON.stringify(res.errors)}`).to.equal(expected);
  const values = res.data ? Object.values(res.data).filter((v) => v !== null) : [];
  expect(values, `${label}: no data`).to.deep.equal([]);
}

describe('Bad input is refused cleanly and changes nothing', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let roomId: string;
  let otherRoomId: string;
  let messageId: string;
  let otherRoomMessageId: string;

  beforeEach(async () => {
    server = await startServer();
    alice = await newUser(server.url, { name: 'Alice' });
    bob = await newUser(server.url, { name: 'Bob' });
    roomId = await groupRoom(server.url, alice, [bob], 'Main');
    otherRoomId = await groupRoom(server.url, alice, [bob], 'Other');
    messageId = (await send(server.url, alice, roomId, 'first')).id;
    await ok(server.url, `mutation($m: ID!) { addReaction(messageId: $m, reaction: "👍") { id } }`, { m: messageId }, bob.token);
    otherRoomMessageId = (await send(server.url, bob, otherRoomId, 'elsewhere')).id;
  });

  interface Case {
    name: string;
    expected: Expected;
    query: string;
    variables?: () => Record<string, unknown>;
  }

  const sendInput = (extra: Record<string, unknown>) => () => ({ input: { roomId, content: 'hello', ...extra } });

  const cases: Case[] = [
    // Malformed ids
    { name: 'room(id) that is not a UUID', expected: 'BAD_USER_INPUT', query: `query($id: ID!) { room(id: $id) { id } }`, variables: () => ({ id: 'not-a-uuid' }) },
    { name: 'messages(roomId) that is not a UUID', expected: 'BAD_USER_INPUT', query: `{ messages(roomId: "12345") { id } }` },
    { name: 'sendMessage to a roomId that is not a UUID', expected: 'BAD_USER_INPUT', query: SEND, variables: () => ({ input: { roomId: 'room-1', content: 'hi' } }) },
    { name: 'markRoomRead with a malformed roomId', expected: 'BAD_USER_INPUT', query: `mutation { markRoomRead(roomId: "nope") { id } }` },
    { name: 'message(id) that is not a UUID', expected: 'BAD_USER_INPUT', query: `{ message(id: "42") { id } }` },
    { name: 'editMessage with a malformed id', expected: 'BAD_USER_INPUT', query: `mutation { editMessage(id: "zzz", content: "changed") { id } }` },
    { name: 'deleteMessage with a malformed id', expected: 'BAD_USER_INPUT', query: `mutation { deleteMessage(id: "'; DROP TABLE messages; --") { id } }` },
    { name: 'addReaction with a malformed messageId', expected: 'BAD_USER_INPUT', query: `mutation { addReaction(messageId: "x", reaction: "👍") { id } }` },
    { name: 'createDirectChat with a malformed userId', expected: 'BAD_USER_INPUT', query: `mutation { createDirectChat(userId: "bob") { id } }` },
    {
      name: 'createGroupChat with a malformed member id',
      expected: 'BAD_USER_INPUT',
      query: `mutation($input: CreateGroupChatInput!) { createGroupChat(input: $input) { id } }`,
      variables: () => ({ input: { name: 'Bad members', memberIds: [bob.id, 'not-a-user'] } }),
    },
    {
      name: 'addMembers with a malformed user id',
      expected: 'BAD_USER_INPUT',
      query: `mutation($r: ID!) { addMembers(roomId: $r, userIds: ["not-a-uuid"]) { id } }`,
      variables: () => ({ r: roomId }),
    },
    {
      name: 'removeMember with a malformed user id',
      expected: 'BAD_USER_INPUT',
      query: `mutation($r: ID!) { removeMember(roomId: $r, userId: "x-y-z") }`,
      variables: () => ({ r: roomId }),
    },
    // Content
    { name: 'content of 4001 characters', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: 'a'.repeat(4001) }) },
    { name: 'content of 4001 emoji', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: '😀'.repeat(4001) }) },
    { name: 'blank TEXT content', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: '  \n\t  ' }) },
    // Found by the fuzz run: jsonb refuses a lone surrogate's escape, which used to surface as INTERNAL_SERVER_ERROR.
    { name: 'metadata with a lone surrogate', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: 'x', metadata: { '\ud800': '\ud800' } }) },
    { name: 'content with a lone surrogate', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: 'a\udc00b' }) },
    { name: 'metadata nested deeper than 100 levels', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: 'x', metadata: JSON.parse('{"a":'.repeat(120) + '1' + '}'.repeat(120)) }) },
    { name: 'empty content', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: '' }) },
    { name: 'empty content on an IMAGE message', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ content: '', type: 'IMAGE' }) },
    { name: 'a SYSTEM message from a client', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ type: 'SYSTEM' }) },
    {
      name: 'editMessage to 4001 characters',
      expected: 'BAD_USER_INPUT',
      query: `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id } }`,
      variables: () => ({ id: messageId, c: 'b'.repeat(4001) }),
    },
    {
      name: 'editMessage to blank content',
      expected: 'BAD_USER_INPUT',
      query: `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id } }`,
      variables: () => ({ id: messageId, c: '   ' }),
    },
    // Metadata
    { name: 'metadata that is an array', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ metadata: [1, 2, 3] }) },
    { name: 'metadata that is a string', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ metadata: 'just text' }) },
    { name: 'metadata that is a number', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ metadata: 42 }) },
    { name: 'metadata over 16 KiB', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ metadata: { blob: 'x'.repeat(16 * 1024 + 100) } }) },
    {
      name: 'metadata over 16 KiB once multibyte characters count as bytes',
      expected: 'BAD_USER_INPUT',
      query: SEND,
      variables: sendInput({ metadata: { blob: 'é'.repeat(9000) } }),
    },
    // Reactions
    ...[
      ['whitespace', 'thumbs up'],
      ['only whitespace', '   '],
      ['a tab', '👍\t'],
      ['33 characters', 'a'.repeat(33)],
      ['nothing', ''],
    ].map(([what, reaction]): Case => ({
      name: `a reaction of ${what}`,
      expected: 'BAD_USER_INPUT',
      query: `mutation($m: ID!, $r: String!) { addReaction(messageId: $m, reaction: $r) { id } }`,
      variables: () => ({ m: messageId, r: reaction }),
    })),
    // List bounds
    { name: 'messages limit 0', expected: 'BAD_USER_INPUT', query: `query($r: ID!) { messages(roomId: $r, limit: 0) { id } }`, variables: () => ({ r: roomId }) },
    { name: 'messages limit 500', expected: 'BAD_USER_INPUT', query: `query($r: ID!) { messages(roomId: $r, limit: 500) { id } }`, variables: () => ({ r: roomId }) },
    { name: 'messages limit -1', expected: 'BAD_USER_INPUT', query: `query($r: ID!, $n: Int) { messages(roomId: $r, limit: $n) { id } }`, variables: () => ({ r: roomId, n: -1 }) },
    { name: 'Room.messages limit 0', expected: 'BAD_USER_INPUT', query: `query($r: ID!) { room(id: $r) { messages(limit: 0) { id } } }`, variables: () => ({ r: roomId }) },
    { name: 'Room.messages limit 201', expected: 'BAD_USER_INPUT', query: `query($r: ID!) { room(id: $r) { messages(limit: 201) { id } } }`, variables: () => ({ r: roomId }) },
    { name: 'rooms pageSize 0', expected: 'BAD_USER_INPUT', query: `{ rooms(pageSize: 0) { total } }` },
    { name: 'rooms pageSize 101', expected: 'BAD_USER_INPUT', query: `{ rooms(pageSize: 101) { total } }` },
    { name: 'rooms page 0', expected: 'BAD_USER_INPUT', query: `{ rooms(page: 0) { total } }` },
    { name: 'companyRooms pageSize 101', expected: 'BAD_USER_INPUT', query: `query($n: Int) { companyRooms(pageSize: $n) { total } }`, variables: () => ({ n: 101 }) },
    // Enums and types
    { name: 'an unknown enum value in variables', expected: 'BAD_USER_INPUT', query: SEND, variables: sendInput({ type: 'VIDEO' }) },
    { name: 'an unknown enum value inline', expected: 'GRAPHQL_VALIDATION_FAILED', query: `{ rooms(type: CHANNEL) { total } }` },
    {
      name: 'an unknown role inline',
      expected: 'GRAPHQL_VALIDATION_FAILED',
      query: `mutation($r: ID!) { updateMemberRole(roomId: $r, userId: "00000000-0000-0000-0000-000000000000", role: GOD) { id } }`,
      variables: () => ({ r: roomId }),
    },
    { name: 'a string where an Int variable is expected', expected: 'BAD_USER_INPUT', query: `query($n: Int) { rooms(pageSize: $n) { total } }`, variables: () => ({ n: 'ten' }) },
    { name: 'a string where an Int literal is expected', expected: 'GRAPHQL_VALIDATION_FAILED', query: `{ rooms(pageSize: "ten") { total } }` },
    { name: 'an object where a String is expected', expected: 'BAD_USER_INPUT', query: SEND, variables: () => ({ input: { roomId, content: { text: 'hi' } } }) },
    { name: 'a missing required input field', expected: 'BAD_USER_INPUT', query: SEND, variables: () => ({ input: { roomId } }) },
    { name: 'a variable declared with the wrong type', expected: 'GRAPHQL_VALIDATION_FAILED', query: `query($r: Int!) { messages(roomId: $r) { id } }`, variables: () => ({ r: 1 }) },
    // Cursors and dates
    {
      name: '`before` naming a message of another room',
      expected: 'BAD_USER_INPUT',
      query: `query($r: ID!, $b: ID) { messages(roomId: $r, before: $b) { id } }`,
      variables: () => ({ r: roomId, b: otherRoomMessageId }),
    },
    {
      name: '`before` that is not a UUID',
      expected: 'BAD_USER_INPUT',
      query: `query($r: ID!, $b: ID) { messages(roomId: $r, before: $b) { id } }`,
      variables: () => ({ r: roomId, b: 'yesterday' }),
    },
    {
      name: '`at` that is not a date (variable)',
      expected: 'BAD_USER_INPUT',
      query: `mutation($r: ID!, $at: DateTime) { markRoomRead(roomId: $r, at: $at) { id } }`,
      variables: () => ({ r: roomId, at: 'not a date' }),
    },
    {
      name: '`at` that is not a date (inline)',
      expected: 'GRAPHQL_VALIDATION_FAILED',
      query: `mutation($r: ID!) { markRoomRead(roomId: $r, at: "31/02/2026") { id } }`,
      variables: () => ({ r: roomId }),
    },
    // Syntax
    { name: 'a document that does not parse', expected: 'GRAPHQL_VALIDATION_FAILED', query: `{ rooms { total }` },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const before = await snapshot(server.url, alice, [roomId, otherRoomId]);
      const res = await gql(server.url, c.query, c.variables ? c.variables() : {}, alice.token);
      expectRefused(res, c.expected, c.name);
      expect(await snapshot(server.url, alice, [roomId, otherRoomId]), 'stored rows are unchanged').to.deep.equal(before);
    });
  }

  describe('input at the limits is accepted', () => {
    it('content of exactly 4000 characters', async () => {
      const content = 'a'.repeat(4000);
      const data = await ok<{ sendMessage: { content: string } }>(server.url, SEND, { input: { roomId, content } }, alice.token);
      expect(data.sendMessage.content).to.equal(content);
    });

    it('content of 4000 emoji (content counts characters, not UTF-16 units or bytes)', async () => {
      const content = '😀'.repeat(4000);
      const data = await ok<{ sendMessage: { id: string; content: string } }>(server.url, SEND, { input: { roomId, content } }, alice.token);
      expect(data.sendMessage.content).to.equal(content);
      const read = await ok<{ message: { content: string } }>(server.url, `query($id: ID!) { message(id: $id) { content } }`, { id: data.sendMessage.id }, bob.token);
      expect([...read.message.content]).to.have.length(4000);
    });

    it('a single character of content', async () => {
      const data = await ok<{ sendMessage: { content: string } }>(server.url, SEND, { input: { roomId, content: 'k' } }, alice.token);
      expect(data.sendMessage.content).to.equal('k');
    });

    it('a metadata object of just under 16 KiB', async () => {
      const metadata: Record<string, unknown> = { kind: 'attachment', nested: { ok: true, list: [1, 2, 3] } };
      metadata.blob = '';
      metadata.blob = 'x'.repeat(16 * 1024 - 64 - Buffer.byteLength(JSON.stringify(metadata)));
      expect(Buffer.byteLength(JSON.stringify(metadata))).to.be.at.most(16 * 1024);
      const data = await ok<{ sendMessage: { metadata: unknown } }>(server.url, SEND, { input: { roomId, content: 'with metadata', metadata } }, alice.token);
      expect(data.sendMessage.metadata).to.deep.equal(metadata);
    });

    it('a reaction of 32 characters and a :short_code:', async () => {
      for (const reaction of ['r'.repeat(32), ':party_parrot:']) {
        const data = await ok<{ addReaction: { reactions: { reaction: string }[] } }>(
          server.url,
          `mutation($m: ID!, $r: String!) { addReaction(messageId: $m, reaction: $r) { reactions { reaction } } }`,
          { m: messageId, r: reaction },
          alice.token,
        );
        expect(data.addReaction.reactions.map((r) => r.reaction)).to.include(reaction);
      }
    });

    it('limit 200, pageSize 100 and `before` in the same room', async () => {
      const second = await send(server.url, alice, roomId, 'second');
      const data = await ok<{ messages: { id: string }[]; rooms: { pageSize: number } }>(
        server.url,
        `query($r: ID!, $b: ID) { messages(roomId: $r, limit: 200, before: $b) { id } rooms(pageSize: 100) { pageSize } }`,
        { r: roomId, b: second.id },
        alice.token,
      );
      expect(data.messages.map((m) => m.id)).to.deep.equal([messageId]);
      expect(data.rooms.pageSize).to.equal(100);
    });
  });
});
