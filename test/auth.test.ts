import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import pino from 'pino';
import { signToken } from '../src/auth/token';
import { gql, makeUser, ok, type GraphQLResponse, newUser } from './support/client';
import { groupRoom } from './support/factories';
import { startServer, TEST_JWT_SECRET, type TestServer } from './support/server';
import { closeCodeOf, handshake, rawSocket } from './support/ws';
import { SignJWT } from 'jose';

const ME = '{ me { id displayName companyId } }';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Asserts a request was refused as unauthenticated, with nothing resolved. */
function expectUnauthenticated(res: GraphQLResponse): void {
  expect(res.errors, 'errors').to.be.an('array').that.is.not.empty;
  expect(res.errors!.map((e) => e.extensions.code)).to.include('UNAUTHENTICATED');
  expect(res.errors!.map((e) => e.extensions.code)).not.to.include('INTERNAL_SERVER_ERROR');
  expect(res.data?.me ?? null, 'no user data').to.equal(null);
  expect(res.status).to.be.below(500);
}

describe('Identity: who may call the API', () => {
  let server: TestServer;

  beforeEach(async () => {
    server = await startServer();
  });

  describe('a request without a usable token is UNAUTHENTICATED', () => {
    it('when no Authorization header is sent', async () => {
      expectUnauthenticated(await gql(server.url, ME));
    });

    it('when the bearer value is garbage', async () => {
      expectUnauthenticated(await gql(server.url, ME, {}, 'this-is-not-a-jwt'));
      expectUnauthenticated(await gql(server.url, ME, {}, 'a.b.c'));
    });

    it('when the token is signed with another secret', async () => {
      const token = await signToken('some-other-secret-entirely', { userId: randomUUID(), name: 'Mallory' });
      expectUnauthenticated(await gql(server.url, ME, {}, token));
    });

    it('when the token has expired', async () => {
      const token = await signToken(TEST_JWT_SECRET, { userId: randomUUID(), name: 'Late', expiresIn: -60 });
      expectUnauthenticated(await gql(server.url, ME, {}, token));
    });

    it('when the token is unsigned (alg: none)', async () => {
      const now = Math.floor(Date.now() / 1000);
      const header = base64url({ alg: 'none', typ: 'JWT' });
      const payload = base64url({ sub: randomUUID(), name: 'Nobody', iat: now, exp: now + 3600 });
      expectUnauthenticated(await gql(server.url, ME, {}, `${header}.${payload}.`));
    });

    it('when the subject (sub) is not a UUID', async () => {
      const token = await signToken(TEST_JWT_SECRET, { userId: 'user-42', name: 'Not a uuid' });
      expectUnauthenticated(await gql(server.url, ME, {}, token));
    });

    it('and a mutation sent with a bad token changes nothing', async () => {
      const owner = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner);
      const forged = await signToken('some-other-secret-entirely', { userId: owner.id, name: 'Forged' });
      const res = await gql(
        server.url,
        `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        { input: { roomId, content: 'forged' } },
        forged,
      );
      expect(res.errors?.map((e) => e.extensions.code)).to.include('UNAUTHENTICATED');
      const data = await ok<{ messages: unknown[] }>(server.url, `query($r: ID!) { messages(roomId: $r, includeDeleted: true) { id } }`, { r: roomId }, owner.token);
      expect(data.messages).to.have.length(0);
    });
  });

  describe('a valid token', () => {
    it('is accepted, and `me` reports the token claims', async () => {
      const companyId = randomUUID();
      const user = await makeUser({ name: 'Ada Lovelace', companyId });
      const res = await gql<{ me: { id: string; displayName: string | null; companyId: string | null } }>(server.url, ME, {}, user.token);
      expect(res.errors).to.equal(undefined);
      expect(res.data!.me).to.deep.equal({ id: user.id, displayName: 'Ada Lovelace', companyId });
    });

    it('without name or company claims gives nulls for them', async () => {
      const id = randomUUID();
      const token = await signToken(TEST_JWT_SECRET, { userId: id, expiresIn: '1h' });
      const data = await ok<{ me: unknown }>(server.url, ME, {}, token);
      expect(data.me).to.deep.equal({ id, displayName: null, companyId: null });
    });
  });

  describe('the users row follows the token claims', () => {
    const MEMBERS = `query($id: ID!) { room(id: $id) { members { user { id displayName companyId } } } }`;

    async function seenBy(viewer: { token: string }, roomId: string, userId: string) {
      const data = await ok<{ room: { members: { user: { id: string; displayName: string | null; companyId: string | null } }[] } }>(
        server.url,
        MEMBERS,
        { id: roomId },
        viewer.token,
      );
      return data.room.members.find((m) => m.user.id === userId)?.user;
    }

    it('a new name in the token renames the user for themselves and for other members', async () => {
      const alice = await newUser(server.url, { name: 'Alice' });
      const bob = await newUser(server.url, { name: 'Bob' });
      const roomId = await groupRoom(server.url, alice, [bob]);
      expect((await seenBy(bob, roomId, alice.id))?.displayName).to.equal('Alice');

      const renamed = await signToken(TEST_JWT_SECRET, { userId: alice.id, name: 'Alice Cooper', expiresIn: '1h' });
      const me = await ok<{ me: { displayName: string } }>(server.url, ME, {}, renamed);
      expect(me.me.displayName).to.equal('Alice Cooper');
      expect((await seenBy(bob, roomId, alice.id))?.displayName).to.equal('Alice Cooper');
    });

    it('a new company in the token moves the user to it', async () => {
      const first = randomUUID();
      const second = randomUUID();
      const carol = await newUser(server.url, { name: 'Carol', companyId: first });
      const dave = await newUser(server.url, { name: 'Dave', companyId: first });
      const roomId = await groupRoom(server.url, dave, [carol]);
      expect((await seenBy(dave, roomId, carol.id))?.companyId).to.equal(first);

      const moved = await signToken(TEST_JWT_SECRET, { userId: carol.id, name: 'Carol', companyId: second, expiresIn: '1h' });
      const me = await ok<{ me: { companyId: string } }>(server.url, ME, {}, moved);
      expect(me.me.companyId).to.equal(second);
      expect((await seenBy(dave, roomId, carol.id))?.companyId).to.equal(second);
    });

    it('a user who never called the API has a null displayName', async () => {
      const owner = await newUser(server.url, { name: 'Owner' });
      const stranger = randomUUID();
      const data = await ok<{ createGroupChat: { id: string; members: { user: { id: string; displayName: string | null } }[] } }>(
        server.url,
        `mutation($input: CreateGroupChatInput!) { createGroupChat(input: $input) { id members { user { id displayName } } } }`,
        { input: { name: 'With a stranger', memberIds: [stranger] } },
        owner.token,
      );
      const byId = new Map(data.createGroupChat.members.map((m) => [m.user.id, m.user.displayName]));
      expect(byId.get(owner.id)).to.equal('Owner');
      expect(byId.has(stranger), 'the stranger is a member').to.equal(true);
      expect(byId.get(stranger)).to.equal(null);

      const again = await seenBy(owner, data.createGroupChat.id, stranger);
      expect(again?.displayName).to.equal(null);
    });
  });
});

describe('Identity: a good token the server fails to check is never UNAUTHENTICATED', () => {
  it('answers 500 (masked, logged with its id) over HTTP and closes 1011 over WebSocket, not 401 / 4401', async () => {
    const lines: { msg: string; errorId?: string }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const server = await startServer({ logger });
    // Recording the token's user fails for a reason that has nothing to do with the token.
    server.app.repos.users.upsertFromClaims = async () => {
      throw new TypeError('users row writer broke at 10.0.0.7');
    };
    const user = await makeUser();

    const res = await gql(server.url, ME, {}, user.token);
    expect(res.status).to.equal(500);
    expect(res.headers.get('www-authenticate')).to.equal(null);
    expect(res.errors?.map((e) => e.extensions.code)).to.deep.equal(['INTERNAL_SERVER_ERROR']);
    expect(res.errors?.[0].message).to.match(/^Internal server error \(ref [0-9a-f-]{36}\)$/);
    expect(lines.some((l) => l.errorId === res.errors?.[0].extensions.errorId), 'logged with the same id').to.equal(true);

    expect(await closeCodeOf(server, `Bearer ${user.token}`)).to.equal(1011);
  });
});

describe('claims are input', () => {
  const CREATE_GROUP = `mutation($name: String!, $ids: [ID!]!) { createGroupChat(input: { name: $name, memberIds: $ids }) { id } }`;
  const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq content room { id name memberCount } } }`;

  it('a NUL or a lone surrogate in the name claim is cleaned, not a database error', async () => {
    const server = await startServer();
    const id = randomUUID();
    const token = await signToken(TEST_JWT_SECRET, { userId: id, name: 'Ada\u0000 Love\ud800lace', expiresIn: '1h' });
    const { me } = await ok(server.url, '{ me { id displayName } }', {}, token);
    expect(me).to.deep.equal({ id, displayName: 'Ada Love\ufffdlace' });
    const roomId = (await ok(server.url, CREATE_GROUP, { name: 'mine', ids: [] }, token)).createGroupChat.id;
    await ok(server.url, SEND, { input: { roomId, content: 'works' } }, token);
  });
});

describe('tokens without exp, and browser origins in production', () => {
  const noExpiry = (userId: string) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(userId).sign(new TextEncoder().encode(TEST_JWT_SECRET));

  it('refuses a token without exp in production and accepts it outside production', async () => {
    const token = await noExpiry(randomUUID());
    const production = await startServer({ env: { NODE_ENV: 'production', CORS_ORIGINS: 'http://app.test' } });
    const refused = await gql(production.url, '{ me { id } }', {}, token);
    expect(refused.errors?.[0]).to.deep.include({ message: 'The token must carry an expiry (exp)' });
    expect(refused.errors?.[0].extensions.code).to.equal('UNAUTHENTICATED');
    const dev = await startServer();
    await ok(dev.url, '{ me { id } }', {}, token);
  });

  it('in production a WebSocket Origin must be listed in CORS_ORIGINS: the Host header is never trusted', async () => {
    const unset = await startServer({ env: { NODE_ENV: 'production' } });
    const ownOrigin = new URL(unset.url).origin;
    expect(await handshake(rawSocket(unset, ownOrigin))).to.equal('refused');
    const listed = await startServer({ env: { NODE_ENV: 'production', CORS_ORIGINS: 'http://app.test' } });
    expect(await handshake(rawSocket(listed, 'http://app.test'))).to.equal('open');
    expect(await handshake(rawSocket(listed, new URL(listed.url).origin))).to.equal('refused');
    // Clients that are not browsers send no Origin and are judged by their token.
    expect(await handshake(rawSocket(listed))).to.equal('open');
  });
});
