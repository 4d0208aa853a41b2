import { expect } from 'chai';
import { gql, makeUser, ok, type GraphQLResponse, type TestUser, newUser, errorCode } from './support/client';
import { groupRoom, send, staffedRoom } from './support/factories';
import { parse } from 'graphql';
import { DEFAULT_QUERY_LIMITS, queryCost } from '../src/graphql/protection';
import { buildChatSchema } from '../src/graphql/schema';
import { startServer, TEST_JWT_SECRET, wsClient, type TestServer, countRows } from './support/server';
import { collect, ready, refusal, sleep, waitFor, type Collected } from './support/ws';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { connect } from 'node:net';

/** A raw POST, for bodies and headers the gql helper does not send. */
async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * Asserts a request was refused by validation, before any resolver ran: no data, and
 * not one statement sent meanwhile (read off the server's own counter, which also
 * sees refusals answered before Apollo, where no response carries a count).
 */
async function expectRefusedBeforeResolvers(server: TestServer, request: () => Promise<GraphQLResponse>, pattern?: RegExp): Promise<void> {
  const before = server.app.db.statements;
  const res = await request();
  expect(res.status, `status of ${JSON.stringify(res.errors)}`).to.be.within(400, 499);
  expect(res.errors, 'errors').to.be.an('array').that.is.not.empty;
  expect(res.errors![0].extensions.code, JSON.stringify(res.errors)).to.equal('GRAPHQL_VALIDATION_FAILED');
  if (pattern) expect(res.errors![0].message).to.match(pattern);
  expect(res.data ?? null, 'no data').to.equal(null);
  expect(server.app.db.statements - before, 'no statement was sent').to.equal(0);
}

/** `message(id)` nested through single objects only (no lists, so cost stays tiny): `levels` field levels. */
function deepQuery(levels: number): string {
  const fields = ['message(id: $id)'];
  while (fields.length < levels - 1) fields.push(fields.length % 2 === 1 ? 'room' : 'lastMessage');
  return `query($id: ID!) { ${fields.join(' { ')} { id${' }'.repeat(fields.length)} }`;
}

function aliases(n: number): string {
  return `{ ${Array.from({ length: n }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
}

/** A room's first message, sent, then `count` more stored at once ('m1', 'm2'...): a history to replay. */
async function storedHistory(server: TestServer, owner: TestUser, roomId: string, count: number): Promise<{ id: string }> {
  const first = await send(server.url, owner, roomId, 'first');
  await server.app.db.query(
    `INSERT INTO messages (room_id, sender_id, type, content, seq) SELECT $1, $2, 'TEXT', 'm' || g, 1 + g FROM generate_series(1, $3::int) g`,
    [roomId, owner.id, count],
  );
  await server.app.db.query(`UPDATE rooms SET last_seq = $2 WHERE id = $1`, [roomId, count + 1]);
  return first;
}

describe('Protection', () => {
  describe('query limits', () => {
    let server: TestServer;
    let user: TestUser;
    let messageId: string;

    beforeEach(async () => {
      server = await startServer();
      user = await newUser(server.url, { name: 'Quinn' });
      const roomId = await groupRoom(server.url, user);
      messageId = (await send(server.url, user, roomId, 'deep')).id;
    });

    it('answers a query 8 levels deep', async () => {
      const res = await gql(server.url, deepQuery(8), { id: messageId }, user.token);
      expect(res.errors, JSON.stringify(res.errors)).to.equal(undefined);
      // message -> room -> lastMessage -> room -> lastMessage -> room -> lastMessage { id }
      expect(res.data!.message.room.lastMessage.room.lastMessage.room.lastMessage.id).to.equal(messageId);
    });

    for (const levels of [9, 12, 40]) {
      it(`refuses a query ${levels} levels deep before any resolver runs`, async () => {
        await expectRefusedBeforeResolvers(server, () => gql(server.url, deepQuery(levels), { id: messageId }, user.token), /depth/i);
      });
    }

    it('refuses depth hidden in fragments', async () => {
      const query = `query($id: ID!) { message(id: $id) { ...A } }
        fragment A on Message { room { lastMessage { ...B } } }
        fragment B on Message { room { lastMessage { ...C } } }
        fragment C on Message { room { lastMessage { room { lastMessage { id } } } } }`;
      await expectRefusedBeforeResolvers(server, () => gql(server.url, query, { id: messageId }, user.token));
    });

    it('answers 20 aliases and refuses 21', async () => {
      const data = await ok<Record<string, { id: string }>>(server.url, aliases(20), {}, user.token);
      expect(Object.keys(data)).to.have.length(20);
      await expectRefusedBeforeResolvers(server, () => gql(server.url, aliases(21), {}, user.token), /alias/i);
    });

    it('refuses a query whose lists multiply past the cost limit', async () => {
      const query = `{ rooms(pageSize: 100) { items { messages(limit: 200) { reactions { users { id } } } } } }`;
      await expectRefusedBeforeResolvers(server, () => gql(server.url, query, {}, user.token), /cost/i);
    });

    it('weighs lists by the sizes given in variables too', async () => {
      const query = `query($p: Int, $l: Int) { rooms(pageSize: $p) { items { messages(limit: $l) { reactions { users { id } } } } } }`;
      await expectRefusedBeforeResolvers(server, () => gql(server.url, query, { p: 100, l: 200 }, user.token), /cost/i);
      const small = await gql(server.url, query, { p: 5, l: 5 }, user.token);
      expect(small.errors).to.equal(undefined);
    });

    it('refuses a document over 20000 bytes and answers one just under', async () => {
      const base = '{ me { id } }\n#';
      const under = base + 'x'.repeat(20_000 - Buffer.byteLength(base));
      expect(Buffer.byteLength(under)).to.equal(20_000);
      const data = await ok<{ me: { id: string } }>(server.url, under, {}, user.token);
      expect(data.me.id).to.equal(user.id);

      const over = base + 'x'.repeat(20_001 - Buffer.byteLength(base));
      await expectRefusedBeforeResolvers(server, () => gql(server.url, over, {}, user.token));
    });

    it('holds a GET document to the same size, and finds /graphql named by a whole URL in the request line', async () => {
      const small = await startServer({ limits: { ...DEFAULT_QUERY_LIMITS, maxDocumentBytes: 1000 } });
      const member = await newUser(small.url);
      const over = `{ me { id } }\n#${'x'.repeat(1000)}`;
      const refused = await fetch(`${small.url}?query=${encodeURIComponent(over)}`, { headers: { authorization: `Bearer ${member.token}`, 'apollo-require-preflight': 'true' } });
      expect(refused.status).to.equal(400);
      expect(((await refused.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code).to.equal('GRAPHQL_VALIDATION_FAILED');
      // `POST http://host/graphql HTTP/1.1`, as a client speaking to a proxy sends it.
      const { host, port } = new URL(small.url);
      const body = JSON.stringify({ query: '{ me { id } }' });
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), host.split(':')[0], () =>
          socket.write(`POST http://${host}/graphql HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${member.token}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`),
        );
        let text = '';
        socket.on('data', (chunk) => (text += chunk));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(raw).to.match(/^HTTP\/1\.1 200/);
      expect(raw).to.include(member.id);
    });

    it('counts document size in bytes, not characters', async () => {
      const query = `{ me { id } }\n#${'é'.repeat(10_100)}`;
      expect(query.length).to.be.below(20_000);
      await expectRefusedBeforeResolvers(server, () => gql(server.url, query, {}, user.token));
    });

    it('allows introspection outside production, with suggestions for misspelled fields', async () => {
      const data = await ok<{ __schema: { queryType: { name: string } }; __type: { fields: { name: string }[] } }>(
        server.url,
        `{ __schema { queryType { name } } __type(name: "Message") { fields { name } } }`,
        {},
        user.token,
      );
      expect(data.__schema.queryType.name).to.equal('Query');
      expect(data.__type.fields.map((f) => f.name)).to.include('reactions');

      const res = await gql(server.url, `{ me { displayNam } }`, {}, user.token);
      expect(res.errors?.[0].extensions.code).to.equal('GRAPHQL_VALIDATION_FAILED');
      expect(res.errors?.[0].message).to.match(/Did you mean/);
    });

    it('serves Apollo Sandbox to a browser outside production', async () => {
      const res = await fetch(server.url, { headers: { accept: 'text/html' } });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.match(/text\/html/);
      expect(await res.text()).to.match(/sandbox/i);
    });
  });

  describe('in production (NODE_ENV=production)', () => {
    let server: TestServer;
    let user: TestUser;

    beforeEach(async () => {
      server = await startServer({ env: { NODE_ENV: 'production', JWT_SECRET: TEST_JWT_SECRET } });
      user = await newUser(server.url, { name: 'Prod' });
    });

    it('refuses introspection', async () => {
      for (const query of [`{ __schema { types { name } } }`, `{ __type(name: "Message") { fields { name } } }`]) {
        const res = await gql(server.url, query, {}, user.token);
        expect(res.errors?.[0].extensions.code, query).to.equal('GRAPHQL_VALIDATION_FAILED');
        expect(res.data ?? null).to.equal(null);
        expect(res.status).to.be.below(500);
      }
    });

    it('gives no "Did you mean" suggestion for a misspelled field or argument', async () => {
      for (const query of [`{ me { displayNam } }`, `{ rooms(pageSiz: 5) { total } }`, `{ rooms(type: GROPU) { total } }`]) {
        const res = await gql(server.url, query, {}, user.token);
        expect(res.errors?.[0].extensions.code, query).to.equal('GRAPHQL_VALIDATION_FAILED');
        for (const error of res.errors ?? []) expect(error.message, query).not.to.match(/did you mean/i);
      }
    });

    it('does not serve Apollo Sandbox to a browser', async () => {
      const res = await fetch(server.url, { headers: { accept: 'text/html' } });
      const text = await res.text();
      expect(text).not.to.match(/sandbox/i);
      expect(res.headers.get('content-type') ?? '').not.to.match(/text\/html/);
    });

    it('still answers ordinary queries', async () => {
      const data = await ok<{ me: { displayName: string } }>(server.url, `{ me { displayName } }`, {}, user.token);
      expect(data.me.displayName).to.equal('Prod');
    });
  });

  describe('HTTP', () => {
    let server: TestServer;
    let user: TestUser;
    let roomId: string;

    beforeEach(async () => {
      server = await startServer();
      user = await newUser(server.url, { name: 'Http' });
      roomId = await groupRoom(server.url, user);
    });

    async function messageCount(): Promise<number> {
      const data = await ok<{ messages: unknown[] }>(server.url, `query($r: ID!) { messages(roomId: $r, limit: 200, includeDeleted: true) { id } }`, { r: roomId }, user.token);
      return data.messages.length;
    }

    const sendBody = () =>
      JSON.stringify({ query: `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, variables: { input: { roomId, content: 'sneaky' } } });

    it('refuses batched requests (a JSON array body) and runs none of them', async () => {
      const body = JSON.stringify([JSON.parse(sendBody()), JSON.parse(sendBody())]);
      const res = await post(server.url, body, { 'content-type': 'application/json', authorization: `Bearer ${user.token}` });
      expect(res.status).to.be.within(400, 499);
      expect(res.text).not.to.match(/"data"\s*:\s*\{/);
      expect(await messageCount()).to.equal(0);
    });

    it('refuses a text/plain POST as CSRF and does not run it', async () => {
      const res = await post(server.url, sendBody(), { 'content-type': 'text/plain', authorization: `Bearer ${user.token}` });
      expect(res.status).to.be.within(400, 499);
      expect(res.json?.data ?? null).to.equal(null);
      expect(res.text).to.match(/CSRF|Cross-Site/i);
      expect(await messageCount()).to.equal(0);
    });

    it('refuses a GET without a preflight header, and answers it with one', async () => {
      const url = `${server.url}?query=${encodeURIComponent('{ me { id } }')}`;
      const refused = await fetch(url, { headers: { authorization: `Bearer ${user.token}` } });
      expect(refused.status).to.be.within(400, 499);
      const refusedBody = (await refused.json()) as { data?: unknown };
      expect(refusedBody.data ?? null).to.equal(null);

      const allowed = await fetch(url, { headers: { authorization: `Bearer ${user.token}`, 'apollo-require-preflight': 'true' } });
      expect(allowed.status).to.equal(200);
      expect(((await allowed.json()) as { data: { me: { id: string } } }).data.me.id).to.equal(user.id);
    });

    it('refuses a subscription sent over HTTP with BAD_USER_INPUT, pointing to WebSocket', async () => {
      const user = await newUser(server.url);
      const roomId = await groupRoom(server.url, user);
      const res = await gql(server.url, `subscription($r: ID!) { typing(roomId: $r) { at } }`, { r: roomId }, user.token);
      expect(res.status).to.equal(400);
      expect(res.errors?.[0].extensions.code).to.equal('BAD_USER_INPUT');
      expect(res.errors?.[0].message).to.include('WebSocket');
    });

    it('answers a persisted-query hash that does not match, or a bad version, as BAD_USER_INPUT', async () => {
      const user = await newUser(server.url);
      for (const persistedQuery of [{ version: 1, sha256Hash: 'deadbeef' }, 7]) {
        const res = await post(server.url, JSON.stringify({ query: '{ me { id } }', extensions: { persistedQuery } }), {
          'content-type': 'application/json',
          authorization: `Bearer ${user.token}`,
        });
        expect(res.status).to.be.below(500);
        expect(res.json.errors[0].extensions.code, res.text).to.equal('BAD_USER_INPUT');
      }
    });

    it('reads a JSON body as express.json would: an object or array only, a leading BOM dropped, empty as {}, gzip and UTF-16 too', async () => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${user.token}` };
      for (const body of ['"a string"', '42', 'null', '{"query": ', '\u00a0{}']) {
        const res = await post(server.url, body, headers);
        expect([res.status, res.json?.errors?.[0]?.message, res.json?.errors?.[0]?.extensions?.code], body).to.deep.equal([400, 'Request body is not valid JSON', 'BAD_USER_INPUT']);
      }
      const query = JSON.stringify({ query: '{ me { id } }' });
      const withBom = await post(server.url, `\ufeff${query}`, headers);
      expect(withBom.json?.data?.me?.id, withBom.text).to.equal(user.id);
      const spaced = await post(server.url, ` \n\t${query}`, headers);
      expect(spaced.json?.data?.me?.id, spaced.text).to.equal(user.id);
      // Empty: {} for Apollo, which answers that the body is missing.
      const empty = await post(server.url, '', headers);
      expect(empty.status).to.equal(400);
      expect(empty.text).to.match(/POST body missing/);
      const gzipped = await fetch(server.url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipSync(query) });
      expect(((await gzipped.json()) as { data: { me: { id: string } } }).data.me.id).to.equal(user.id);
      const utf16 = await fetch(server.url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json; charset=utf-16le' }, body: Buffer.from(query, 'utf16le') });
      expect(((await utf16.json()) as { data: { me: { id: string } } }).data.me.id).to.equal(user.id);
    });

    it('refuses a 1.5 MiB body with 413', async () => {
      const body = JSON.stringify({
        query: `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`,
        variables: { input: { roomId, content: 'big', metadata: { pad: 'x'.repeat(1.5 * 1024 * 1024) } } },
      });
      const res = await post(server.url, body, { 'content-type': 'application/json', authorization: `Bearer ${user.token}` });
      expect(res.status).to.equal(413);
      expect(await messageCount()).to.equal(0);
    });

    it('answers /health with 200', async () => {
      const res = await fetch(new URL('/health', server.url));
      expect(res.status).to.equal(200);
    });

    it('answers /ready with 200 and a working database', async () => {
      const res = await fetch(new URL('/ready', server.url));
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { checks: { database: boolean } };
      expect(body.checks.database).to.equal(true);
    });
  });

  describe('CORS', () => {
    const allowed = 'https://chat.example.com';

    async function preflight(url: string, origin: string): Promise<Response> {
      return fetch(url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    }

    it('grants an origin listed in CORS_ORIGINS and no other', async () => {
      const server = await startServer({ env: { CORS_ORIGINS: `${allowed}, https://admin.example.com` } });
      const good = await preflight(server.url, allowed);
      expect(good.headers.get('access-control-allow-origin')).to.equal(allowed);

      const evil = await preflight(server.url, 'https://evil.example.net');
      expect(evil.headers.get('access-control-allow-origin')).to.equal(null);

      const lookalike = await preflight(server.url, 'https://chat.example.com.evil.example.net');
      expect(lookalike.headers.get('access-control-allow-origin')).to.equal(null);
    });

    it('does not grant a foreign origin on an actual POST either', async () => {
      const server = await startServer({ env: { CORS_ORIGINS: allowed } });
      const user = await makeUser();
      const res = await gql(server.url, `{ me { id } }`, {}, user.token, { origin: 'https://evil.example.net' });
      expect(res.headers.get('access-control-allow-origin')).to.equal(null);
      const good = await gql(server.url, `{ me { id } }`, {}, user.token, { origin: allowed });
      expect(good.headers.get('access-control-allow-origin')).to.equal(allowed);
    });
  });

  describe('rate limits', () => {
    it('admits exactly MESSAGE_RATE_LIMIT of 50 parallel sends; the rest get 429 with Retry-After', async () => {
      const server = await startServer({ env: { MESSAGE_RATE_LIMIT: '10/60' } });
      const user = await newUser(server.url, { name: 'Spammer' });
      const roomId = await groupRoom(server.url, user);

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          gql(server.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId, content: `burst ${i}` } }, user.token),
        ),
      );
      const admitted = results.filter((r) => !r.errors && r.data?.sendMessage?.id);
      const refused = results.filter((r) => r.errors);
      expect(admitted).to.have.length(10);
      expect(refused).to.have.length(40);
      for (const r of refused) {
        expect(r.errors![0].extensions.code, JSON.stringify(r.errors)).to.equal('RATE_LIMITED');
        expect(r.status).to.equal(429);
        const header = r.headers.get('retry-after');
        expect(header, 'Retry-After').to.match(/^[1-9]\d*$/);
        expect(Number(header)).to.be.at.most(60);
        const retryAfter = r.errors![0].extensions.retryAfter;
        expect(retryAfter).to.be.a('number');
        expect(Number.isInteger(retryAfter) && (retryAfter as number) > 0, `retryAfter ${retryAfter}`).to.equal(true);
      }

      const stored = await ok<{ messages: { seq: number }[] }>(
        server.url,
        `query($r: ID!) { messages(roomId: $r, limit: 200, includeDeleted: true) { seq } }`,
        { r: roomId },
        user.token,
      );
      expect(stored.messages).to.have.length(10);
      expect(stored.messages.map((m) => m.seq).sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('counts per user: another member of the room may still send', async () => {
      const server = await startServer({ env: { MESSAGE_RATE_LIMIT: '2/60' } });
      const a = await newUser(server.url);
      const b = await newUser(server.url);
      const roomId = await groupRoom(server.url, a, [b]);
      await send(server.url, a, roomId, '1');
      await send(server.url, a, roomId, '2');
      const third = await gql(server.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId, content: '3' } }, a.token);
      expect(third.errors?.[0].extensions.code).to.equal('RATE_LIMITED');
      await send(server.url, b, roomId, 'mine');
    });

    it('refuses the 6th distinct reaction with REACTION_RATE_LIMIT 5/60', async () => {
      const server = await startServer({ env: { REACTION_RATE_LIMIT: '5/60' } });
      const user = await newUser(server.url);
      const roomId = await groupRoom(server.url, user);
      const messageId = (await send(server.url, user, roomId, 'react to me')).id;
      const react = (reaction: string) =>
        gql<{ addReaction: { reactions: { reaction: string }[] } }>(
          server.url,
          `mutation($m: ID!, $r: String!) { addReaction(messageId: $m, reaction: $r) { reactions { reaction } } }`,
          { m: messageId, r: reaction },
          user.token,
        );
      for (const reaction of ['👍', '❤️', '😂', ':tada:', ':eyes:']) {
        const res = await react(reaction);
        expect(res.errors, reaction).to.equal(undefined);
      }
      const sixth = await react(':rocket:');
      expect(sixth.errors?.[0].extensions.code).to.equal('RATE_LIMITED');
      expect(sixth.status).to.equal(429);
      expect(sixth.headers.get('retry-after')).to.match(/^[1-9]\d*$/);

      const after = await ok<{ message: { reactions: { reaction: string }[] } }>(server.url, `query($id: ID!) { message(id: $id) { reactions { reaction } } }`, { id: messageId }, user.token);
      expect(after.message.reactions.map((r) => r.reaction)).to.deep.equal(['👍', '❤️', '😂', ':tada:', ':eyes:']);
    });
  });

  describe('the work budget: query cost per user and second', () => {
    const ROOMS = `query { rooms(pageSize: 50) { items { id name } } }`;
    const roomsCost = () => queryCost(buildChatSchema(), parse(ROOMS), {}, undefined) as number;

    it('refuses a user past QUERY_COST_RATE_LIMIT with RATE_LIMITED (429 and Retry-After), over HTTP and a socket alike, and no other user', async () => {
      // Three of these documents per 3 s.
      const server = await startServer({ env: { QUERY_COST_RATE_LIMIT: `${3 * roomsCost()}/3` } });
      const heavy = await newUser(server.url);
      const other = await newUser(server.url);
      for (let i = 0; i < 3; i++) expect((await gql(server.url, ROOMS, {}, heavy.token)).errors, `request ${i + 1}`).to.equal(undefined);
      const refused = await gql(server.url, ROOMS, {}, heavy.token);
      expect(refused.errors?.map((e) => e.extensions.code)).to.deep.equal(['RATE_LIMITED']);
      expect(refused.status).to.equal(429);
      expect(Number(refused.headers.get('retry-after'))).to.be.within(1, 3);
      expect(refused.errors?.[0].extensions.retryAfter).to.be.within(1, 3);
      // One budget for both transports: the socket refuses the same user's operation now...
      const socket = wsClient(server, heavy.token);
      expect(await refusal(collect(socket, ROOMS))).to.deep.equal(['RATE_LIMITED']);
      // ...and nobody else's.
      expect((await gql(server.url, ROOMS, {}, other.token)).errors).to.equal(undefined);
      // Refilled evenly: one document's worth a second.
      await sleep(1100);
      expect((await gql(server.url, ROOMS, {}, heavy.token)).errors).to.equal(undefined);
      expect((await gql(server.url, ROOMS, {}, heavy.token)).errors?.map((e) => e.extensions.code)).to.deep.equal(['RATE_LIMITED']);
    });

    it('weighs a search hit by the text its snippet reads and a readBy by the list it resolves, so their loops are refused by default', async () => {
      // An empty value: the default budget, 600,000 per 3 s.
      const server = await startServer({ env: { QUERY_COST_RATE_LIMIT: '' } });
      const { owner, member, roomId } = await staffedRoom(server.url);
      /** Sends `document` `times` in a row: what was answered, against what the budget (600,000 per 3 s by default) allows at its cost. */
      const loop = async (document: string, variables: Record<string, unknown>, token: string, times: number) => {
        const cost = queryCost(buildChatSchema(), parse(document), variables, undefined) as number;
        const started = performance.now();
        const codes: string[] = [];
        for (let i = 0; i < times; i++) codes.push((await gql(server.url, document, variables, token)).errors?.[0]?.extensions.code ?? 'ok');
        const seconds = (performance.now() - started) / 1000;
        const answered = codes.filter((c) => c === 'ok').length;
        expect(codes.filter((c) => c !== 'ok' && c !== 'RATE_LIMITED'), 'other errors').to.deep.equal([]);
        expect(answered, 'at least the burst').to.be.at.least(Math.floor(600_000 / cost));
        expect(answered, 'at most the burst and the refill').to.be.at.most(Math.floor((600_000 + 200_000 * seconds) / cost) + 1);
        expect(answered, 'some refused').to.be.below(times);
      };
      // Issue 17's F2: three aliases of 100 hits with their snippets, whatever the hits are.
      const hits = (alias: string) => `${alias}: searchMessages(query: $q, limit: 100) { snippet }`;
      await loop(`query($q: String!) { ${['a', 'b', 'c'].map(hits).join(' ')} }`, { q: 'alpha' }, member.token, 40);
      // F3: a 200-message page with 19 aliased readBy(limit: 1).
      const readers = Array.from({ length: 19 }, (_, k) => `r${k}: readBy(limit: 1) { id }`).join(' ');
      await loop(`query($r: ID!) { messages(roomId: $r, limit: 200) { id readCount ${readers} } }`, { r: roomId }, owner.token, 60);
      // Someone else is served meanwhile.
      const bystander = await newUser(server.url);
      expect((await gql(server.url, ROOMS, {}, bystander.token)).errors).to.equal(undefined);
    });
  });

  describe('masked errors', () => {
    it('show no SQL, driver text or stack trace; an internal error only as a reference id', async () => {
      const server = await startServer();
      const user = await newUser(server.url);
      const nil = '00000000-0000-0000-0000-000000000000';
      const responses = await Promise.all([
        gql(server.url, `{ message(id: "00000000-0000-0000-0000-00000000000z") { id } }`, {}, user.token),
        gql(server.url, `query($id: ID!) { message(id: $id) { id } }`, { id: nil }, user.token),
        gql(server.url, `query($id: ID!) { messages(roomId: $id, before: $id) { id } }`, { id: nil }, user.token),
        gql(server.url, `{ rooms(pageSize: 2147483648) { total } }`, {}, user.token),
        gql(server.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }`, { input: { roomId: nil, content: '\u0000' } }, user.token),
        gql(server.url, deepQuery(20), { id: nil }, user.token),
        gql(server.url, aliases(30), {}, user.token),
      ]);
      for (const res of responses) {
        expect(res.errors, 'errors').to.be.an('array').that.is.not.empty;
        for (const error of res.errors!) {
          const text = JSON.stringify(error);
          expect(text).not.to.match(/SELECT |INSERT |UPDATE |relation "|violates|QueryFailedError|pg-protocol|node_modules|\.ts:\d+/);
          expect(error.extensions).not.to.have.property('stacktrace');
          if (error.extensions.code === 'INTERNAL_SERVER_ERROR') {
            const match = /^Internal server error \(ref ([0-9a-f-]{36})\)$/.exec(error.message);
            expect(match, error.message).not.to.equal(null);
            expect(error.extensions.errorId).to.equal(match![1]);
          }
        }
      }
    });
  });
  describe('lists cost what they can produce', () => {
    const schema = buildChatSchema();
    const cost = (query: string, variables: Record<string, unknown> = {}) => queryCost(schema, parse(query), variables, undefined) as number;

    it('counts a list without a size argument at its bound, nested lists multiplied', () => {
      // members: limit 100 by default; pinnedMessages: at most 50; readReceipts: 100; threadParticipants: 10; mentions: 50.
      // A field weighs 1 and what it selects; a bounded one, its bound times (1 + what each item selects).
      expect(cost(`{ room(id: "x") { members { id } } }`)).to.equal(1 + 100 * (1 + 1));
      expect(cost(`{ room(id: "x") { members(limit: 500) { id } } }`)).to.equal(1 + 500 * 2);
      expect(cost(`{ room(id: "x") { pinnedMessages { id } } }`)).to.equal(1 + 50 * 2);
      expect(cost(`{ room(id: "x") { readReceipts { lastReadAt } } }`)).to.equal(1 + 100 * 2);
      expect(cost(`{ message(id: "x") { threadParticipants { id } mentions { id } } }`)).to.equal(1 + 10 * 2 + 50 * 2);
      expect(cost(`{ changes(limit: 500) { messages { mentions { id } } } }`)).to.equal(500 * (1 + 1 * (1 + 50 * 2)));
      expect(cost(`{ rooms(pageSize: 100) { items { id } } }`)).to.equal(100 * (1 + 1 * (1 + 1)));
      // Out of range weighs the maximum: the cost never trusts a value the resolver has not checked.
      expect(cost(`{ room(id: "x") { members(limit: 100000) { id } } }`)).to.equal(1 + 500 * 2);
    });

    it('refuses 20 aliased catch-up pages of mentions before any resolver runs', async () => {
      const server = await startServer();
      const user = await newUser(server.url);
      const query = `{ ${Array.from({ length: 20 }, (_, i) => `c${i}: changes(limit: 500) { messages { mentions { id displayName } } }`).join(' ')} }`;
      await expectRefusedBeforeResolvers(server, () => gql(server.url, query, {}, user.token), /cost/i);
    });

    it("holds a user's subscriptions of room members to what their budget affords at the members' bound", async () => {
      const server = await startServer({ limits: { maxSubscriptionCostPerUser: 2000 } });
      const owner = await newUser(server.url);
      const attacker = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [attacker]);
      const variant = (i: number) => `subscription($r: ID) { messageAdded(roomId: $r) { v${i}: id room { members { id user { id } } } } }`;
      const each = cost(variant(0), { r: roomId });
      expect(each, 'a page of 100 members and their users').to.be.above(400);
      const client = wsClient(server, attacker.token);
      const subs = Array.from({ length: 37 }, (_, i) => collect(client, variant(i), { r: roomId }));
      await waitFor(() => subs.filter((x) => x.errors.length > 0).length >= 37 - Math.floor(2000 / each), 5000, 'the refusals');
      await sleep(200);
      expect(subs.filter((x) => x.errors.length === 0)).to.have.length(Math.floor(2000 / each));
    });
  });

  describe('anonymous requests', () => {
    const INTROSPECTION = `{ __schema { queryType { name } types { name fields { name } } } }`;

    it("answers Sandbox's introspection without a token, the same document again from what it already answered", async () => {
      const server = await startServer();
      const first = await gql(server.url, INTROSPECTION);
      expect(first.status).to.equal(200);
      expect(first.data!.__schema.queryType.name).to.equal('Query');
      // 30 more of the same are answered with no work: the allowance for new documents (10 at once) is not touched.
      const again = await Promise.all(Array.from({ length: 30 }, () => gql(server.url, INTROSPECTION)));
      expect(again.map((r) => r.status)).to.deep.equal(Array(30).fill(200));
      expect(again.every((r) => JSON.stringify(r.data) === JSON.stringify(first.data))).to.equal(true);
    });

    it("keeps only JSON answers: a browser's GET of the document (the landing page's HTML) is not what the next asker gets", async () => {
      const server = await startServer();
      const page = await fetch(`${server.url}?query=${encodeURIComponent(INTROSPECTION)}`, { headers: { accept: 'text/html' } });
      expect(page.headers.get('content-type')).to.match(/text\/html/);
      // The same document the same way, from a client that asks for JSON: the answer is computed, not the page.
      const answer = await fetch(`${server.url}?query=${encodeURIComponent(INTROSPECTION)}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
      expect(answer.status).to.equal(200);
      expect(answer.headers.get('content-type')).to.match(/json/);
      expect(((await answer.json()) as { data: { __schema: { queryType: { name: string } } } }).data.__schema.queryType.name).to.equal('Query');
    });

    it('computes new anonymous documents only while a small allowance lasts; users with a token are not held up', async () => {
      const server = await startServer();
      const user = await newUser(server.url);
      const distinct = Array.from({ length: 25 }, (_, i) => `{ a${i}: __schema { types { name } } }`);
      const answers = await Promise.all(distinct.map((query) => gql(server.url, query)));
      const limited = answers.filter((r) => r.status === 429);
      expect(answers.length - limited.length, 'computed').to.be.within(10, 12);
      expect(limited[0].errors?.[0].extensions).to.deep.include({ code: 'RATE_LIMITED' });
      expect(Number(limited[0].headers.get('retry-after'))).to.be.at.least(1);
      const mine = await gql(server.url, `{ a0: __schema { types { name } } me { id } }`, {}, user.token);
      expect(mine.status).to.equal(200);
    });

    it('holds anonymous introspection to the same limits as any document', async () => {
      const server = await startServer();
      const deep = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: __schema { types { fields { args { type { fields { args { name } } } } } } }`).join(' ')} }`;
      expect(cost(deep)).to.be.above(DEFAULT_QUERY_LIMITS.maxCost);
      await expectRefusedBeforeResolvers(server, () => gql(server.url, deep), /cost|depth/i);
      await expectRefusedBeforeResolvers(server, () => gql(server.url, `{ ${Array.from({ length: 21 }, (_, i) => `a${i}: __schema { queryType { name } }`).join(' ')} }`), /alias/i);
    });

    const cost = (query: string) => queryCost(buildChatSchema(), parse(query), {}, undefined) as number;
  });

  describe('the subscription budget', () => {
    it('keeps an identical subscription counted while one of its twins lives on', async () => {
      const server = await startServer({ limits: { maxSubscriptionCostPerUser: 60 } });
      const owner = await newUser(server.url);
      const user = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [user]);
      const variant = (i: number) => `subscription($r: ID) { messageUpdated(roomId: $r) { v${i}: id room { unreadCount } } }`;
      const each = queryCost(buildChatSchema(), parse(variant(0)), { r: roomId }, undefined) as number;
      const fits = Math.floor(60 / each);
      const client = wsClient(server, user.token);
      const twins = [collect(client, variant(0), { r: roomId }), collect(client, variant(0), { r: roomId })];
      const others = Array.from({ length: fits - 1 }, (_, i) => collect(client, variant(i + 1), { r: roomId }));
      await ready([...twins, ...others], async () => (await ok(server.url, `mutation($id: ID!) { addReaction(messageId: $id, reaction: ":p:") { id } }`, { id: (await send(server.url, owner, roomId, 'probe')).id }, owner.token)).addReaction, (d: any, id) => d.messageUpdated.v0 === id || Object.values(d.messageUpdated).includes(id));
      expect([...twins, ...others].every((x) => x.errors.length === 0)).to.equal(true);
      // One twin ends: the other still holds the shared cost, so the budget is as full as before.
      twins[0].stop();
      await sleep(200);
      const late = collect(client, variant(99), { r: roomId });
      expect(await refusal(late)).to.deep.equal(['BAD_USER_INPUT']);
    });

    it("replays a user's `since` subscriptions one after another, never side by side", async () => {
      const server = await startServer();
      const owner = await newUser(server.url);
      const user = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [user]);
      const first = await storedHistory(server, owner, roomId, 300);
      const arrivals: number[] = [];
      const client = wsClient(server, user.token);
      for (const sub of [0, 1, 2]) {
        client.subscribe(
          { query: `subscription($r: ID, $s: ID) { messageAdded(roomId: $r, since: $s) { id } }`, variables: { r: roomId, s: first.id } },
          { next: () => arrivals.push(sub), error: () => {}, complete: () => {} },
        );
      }
      await waitFor(() => arrivals.length === 900, 30_000, 'three replays of 300');
      // Each replay's messages arrive together: the subscription changes twice in 900 arrivals, no more.
      const switches = arrivals.filter((sub, i) => i > 0 && sub !== arrivals[i - 1]).length;
      expect(switches).to.equal(2);
    });

    it("paces a user's replays (past a burst of twice the pace), complete and in order, without slowing another user's", async function () {
      this.timeout(60_000);
      const server = await startServer({ limits: { replayMessagesPerSecond: 200 } });
      const owner = await newUser(server.url);
      const slow = await newUser(server.url);
      const other = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [slow, other]);
      const first = await storedHistory(server, owner, roomId, 1000);
      const SINCE = `subscription($r: ID, $s: ID) { messageAdded(roomId: $r, since: $s) { content } }`;
      const started = performance.now();
      const long = collect(wsClient(server, slow.token), SINCE, { r: roomId, s: first.id });
      await waitFor(() => long.data.length >= 400, 10_000, 'the burst');
      // Another user's replay of the same room, meanwhile: within their own burst, at once.
      const short = collect(wsClient(server, other.token), SINCE, { r: roomId, s: first.id });
      await waitFor(() => short.data.length >= 400, 10_000, "the other user's burst");
      expect(long.data.length, 'the first replay, still paced when the other has its 400').to.be.below(1000);
      await waitFor(() => long.data.length === 1000, 30_000, 'the whole replay');
      // 600 messages past the burst of 400, at 200 a second: 3 s at least.
      expect(performance.now() - started, 'the replay of 1,000, ms').to.be.above(2800);
      expect(long.data.map((d) => d.messageAdded.content)).to.deep.equal(Array.from({ length: 1000 }, (_, i) => `m${i + 1}`));
      expect(long.errors).to.deep.equal([]);
    });

    it('lets a reconnecting client resume each of its streams with `since`: replays that take turns count once', async () => {
      const SINCE = `subscription($r: ID, $s: ID) { messageAdded(roomId: $r, since: $s) { id content } }`;
      const UPDATED = `subscription($r: ID, $s: String) { messageUpdated(roomId: $r, since: $s) { id content } }`;
      const server0 = await startServer();
      const owner0 = await newUser(server0.url);
      const room0 = await groupRoom(server0.url, owner0);
      const first0 = await send(server0.url, owner0, room0, 'first');
      const costs = [
        queryCost(buildChatSchema(), parse(SINCE), { r: room0, s: first0.id }, undefined) as number,
        queryCost(buildChatSchema(), parse(UPDATED), { r: room0, s: 'x' }, undefined) as number,
      ];
      // Room for both live parts and the larger replay, not for both replays at once.
      const budget = costs[0] + costs[1] + Math.max(...costs);
      const server = await startServer({ limits: { maxSubscriptionCostPerUser: budget } });
      const owner = await newUser(server.url);
      const user = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [user]);
      const first = await send(server.url, owner, roomId, 'first');
      const later = await send(server.url, owner, roomId, 'later');
      const { message: firstRead } = await ok<{ message: { version: string } }>(server.url, `query($id: ID!) { message(id: $id) { version } }`, { id: first.id }, user.token);
      const client = wsClient(server, user.token);
      const added = collect(client, SINCE, { r: roomId, s: first.id });
      const updated = collect(client, UPDATED, { r: roomId, s: firstRead.version });
      await waitFor(() => added.data.length === 1 && updated.data.length >= 1, 5000, 'both replays');
      expect(added.errors).to.deep.equal([]);
      expect(updated.errors).to.deep.equal([]);
      expect(added.data.map((d) => d.messageAdded.id)).to.deep.equal([later.id]);
      // Live afterwards, both: a new message, an edit.
      await send(server.url, owner, roomId, 'live');
      await ok(server.url, `mutation($id: ID!) { editMessage(id: $id, content: "later, edited") { id } }`, { id: later.id }, owner.token);
      await waitFor(() => added.data.length === 2 && updated.data.some((d) => d.messageUpdated.content === 'later, edited'), 5000, 'the live changes on both');
      // Replayed, they hold their live parts only: a third stream as large as the larger replay fits now.
      const third = collect(client, `subscription($r: ID) { messageAdded(roomId: $r) { id content } }`, { r: roomId });
      await sleep(300);
      expect(third.errors).to.deep.equal([]);
      await send(server.url, owner, roomId, 'for the third');
      await waitFor(() => third.data.length === 1, 5000, 'the third stream');
    });

    it('counts every `since` subscription on its own, with the largest replay, so fifty identical ones cannot all replay', async () => {
      const server = await startServer({ limits: { maxSubscriptionCostPerUser: 60, replayMessagesPerSecond: 100_000 } });
      const owner = await newUser(server.url);
      const user = await newUser(server.url);
      const roomId = await groupRoom(server.url, owner, [user]);
      // A history to replay that takes a while: the subscriptions all arrive while the first replays.
      const first = await storedHistory(server, owner, roomId, 400);
      const SINCE = `subscription($r: ID, $s: ID) { messageAdded(roomId: $r, since: $s) { id } }`;
      const each = queryCost(buildChatSchema(), parse(SINCE), { r: roomId, s: first.id }, undefined) as number;
      const client = wsClient(server, user.token);
      const subs = Array.from({ length: 50 }, () => collect(client, SINCE, { r: roomId, s: first.id }));
      // Each holds its live part; their replays take turns, so the largest of them counts once.
      const fits = Math.floor((60 - each) / each);
      await waitFor(() => subs.filter((x) => x.errors.length > 0).length >= 50 - fits, 5000, 'the refusals');
      await waitFor(() => subs.filter((x) => x.data.length === 400).length >= fits, 30_000, 'the accepted replays');
      await sleep(200);
      const accepted = subs.filter((x) => x.errors.length === 0);
      expect(accepted).to.have.length(fits);
      for (const sub of accepted) expect(sub.data.map((d) => d.messageAdded.id)).to.have.length(400);
    });
  });
});

describe('the work one user can make an event cost is bounded', () => {
  const EDIT = `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id content } }`;

  const PER_VIEWER = `subscription($r: ID) { messageUpdated(roomId: $r) { id content room { unreadCount myMembership { role } } reactions { reactedByMe } } }`;

  it('250 identical per-viewer subscriptions of one user (5 sockets x 50) cost one execution per event', async () => {
    const server = await startServer({ env: { EDIT_RATE_LIMIT: '1000/10' } });
    const owner = await newUser(server.url);
    const attacker = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner, [attacker]);
    const message = await send(server.url, owner, roomId, 'edit me');
    const subs: Collected[] = [];
    for (let s = 0; s < 5; s++) {
      const client = wsClient(server, attacker.token);
      for (let i = 0; i < 50; i++) subs.push(collect(client, PER_VIEWER, { r: roomId }));
    }
    let edits = 0;
    await ready(subs, async () => (await ok(server.url, EDIT, { id: message.id, c: `warm ${++edits}` }, owner.token)).editMessage, (d: any, id) => d.messageUpdated.id === id);
    await sleep(200);
    const before = server.app.stats.subscriptionExecutions;
    await ok(server.url, EDIT, { id: message.id, c: 'counted' }, owner.token);
    await waitFor(() => subs.every((s) => s.data.some((d) => d.messageUpdated.content === 'counted')), 5000, 'every subscription to get the edit');
    expect(subs.every((s) => s.errors.length === 0)).to.equal(true);
    expect(server.app.stats.subscriptionExecutions - before).to.equal(1);
  });

  it("refuses a user's distinct subscriptions beyond the budget, alone: earlier ones and other users keep theirs", async () => {
    const server = await startServer({ limits: { maxSubscriptionCostPerUser: 60 }, env: { EDIT_RATE_LIMIT: '1000/10' } });
    const owner = await newUser(server.url);
    const attacker = await newUser(server.url);
    const bystander = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner, [attacker, bystander]);
    const message = await send(server.url, owner, roomId, 'edit me');
    const client = wsClient(server, attacker.token);
    // Each alias makes a distinct document, so nothing is shared: each costs its own execution.
    const variant = (i: number) => `subscription($r: ID) { messageUpdated(roomId: $r) { v${i}: id room { unreadCount } } }`;
    const subs = Array.from({ length: 30 }, (_, i) => collect(client, variant(i), { r: roomId }));
    await waitFor(() => subs.filter((s) => s.errors.length > 0).length > 0, 5000, 'a refusal');
    await sleep(300);
    const refused = subs.filter((s) => s.errors.length > 0);
    const accepted = subs.filter((s) => s.errors.length === 0);
    expect(refused.flatMap((s) => s.errors.map((e) => e.code))).to.satisfy((codes: string[]) => codes.every((c) => c === 'BAD_USER_INPUT'));
    // Each variant costs the same; the budget holds as many as fit, not one more.
    const cost = queryCost(buildChatSchema(), parse(variant(0)), { r: roomId }, undefined) as number;
    expect(accepted.length).to.equal(Math.floor(60 / cost));
    const other = collect(wsClient(server, bystander.token), variant(99), { r: roomId });

    await sleep(300);
    const before = server.app.stats.subscriptionExecutions;
    await ok(server.url, EDIT, { id: message.id, c: 'after' }, owner.token);
    await waitFor(() => accepted.every((s) => s.data.length > 0) && other.data.length > 0, 5000, 'the edit to reach every accepted subscription');
    expect(other.errors).to.deep.equal([]);
    expect(server.app.stats.subscriptionExecutions - before, 'executions are bounded by what was accepted').to.equal(accepted.length + 1);
  });
});

describe('every write a client can repeat has a limit', () => {
  const ADD_MEMBERS = `mutation($r: ID!, $u: [ID!]!) { addMembers(roomId: $r, userIds: $u) { id user { id } } }`;
  const CREATE_GROUP = `mutation($name: String!, $ids: [ID!]!) { createGroupChat(input: { name: $name, memberIds: $ids }) { id } }`;
  const EDIT = `mutation($id: ID!, $c: String!) { editMessage(id: $id, content: $c) { id content } }`;

  it('editMessage: EDIT_RATE_LIMIT per user and room, RATE_LIMITED with retryAfter, the refused edit stores nothing', async () => {
    const server = await startServer({ env: { EDIT_RATE_LIMIT: '3/60' } });
    const { member, roomId } = await staffedRoom(server.url);
    const message = await send(server.url, member, roomId, 'v0');
    for (let i = 1; i <= 3; i++) await ok(server.url, EDIT, { id: message.id, c: `v${i}` }, member.token);
    const refused = await gql(server.url, EDIT, { id: message.id, c: 'v4' }, member.token);
    expect(refused.errors?.[0].extensions).to.deep.include({ code: 'RATE_LIMITED' });
    expect(refused.errors?.[0].extensions.retryAfter).to.be.within(1, 60);
    expect(refused.status).to.equal(429);
    const [row] = await server.app.db.query<{ content: string }>(`SELECT content FROM messages WHERE id = $1`, [message.id]);
    expect(row.content).to.equal('v3');
  });

  it('createGroupChat: ROOM_RATE_LIMIT per user; the refused call stores nothing', async () => {
    const server = await startServer({ env: { ROOM_RATE_LIMIT: '2/60' } });
    const user = await newUser(server.url);
    await ok(server.url, CREATE_GROUP, { name: 'one', ids: [] }, user.token);
    await ok(server.url, CREATE_GROUP, { name: 'two', ids: [] }, user.token);
    const fresh = randomUUID();
    expect(await errorCode(server.url, CREATE_GROUP, { name: 'three', ids: [fresh] }, user.token)).to.equal('RATE_LIMITED');
    expect(await countRows(server, `SELECT count(*)::int AS n FROM rooms WHERE created_by = $1`, [user.id])).to.equal(2);
    expect(await countRows(server, `SELECT count(*)::int AS n FROM users WHERE id = $1`, [fresh])).to.equal(0);
  });

  it('createDirectChat: creating counts against ROOM_RATE_LIMIT, opening an existing one does not', async () => {
    const server = await startServer({ env: { ROOM_RATE_LIMIT: '2/60' } });
    const user = await newUser(server.url);
    const [a, b, c] = await Promise.all([1, 2, 3].map(async () => newUser(server.url)));
    const DIRECT = `mutation($u: ID!) { createDirectChat(userId: $u) { id } }`;
    const first = (await ok(server.url, DIRECT, { u: a.id }, user.token)).createDirectChat.id;
    for (let i = 0; i < 5; i++) expect((await ok(server.url, DIRECT, { u: a.id }, user.token)).createDirectChat.id).to.equal(first);
    await ok(server.url, DIRECT, { u: b.id }, user.token);
    expect(await errorCode(server.url, DIRECT, { u: c.id }, user.token)).to.equal('RATE_LIMITED');
    expect(await countRows(server, `SELECT count(*)::int AS n FROM rooms WHERE created_by = $1`, [user.id])).to.equal(2);
  });

  it('addMembers: MEMBER_RATE_LIMIT per user and room; the refused call adds no one', async () => {
    const server = await startServer({ env: { MEMBER_RATE_LIMIT: '2/60' } });
    const { owner, roomId, companyId } = await staffedRoom(server.url);
    const people = await Promise.all([1, 2, 3].map(async () => newUser(server.url, { companyId })));
    await ok(server.url, ADD_MEMBERS, { r: roomId, u: [people[0].id] }, owner.token);
    await ok(server.url, ADD_MEMBERS, { r: roomId, u: [people[1].id] }, owner.token);
    expect(await errorCode(server.url, ADD_MEMBERS, { r: roomId, u: [people[2].id] }, owner.token)).to.equal('RATE_LIMITED');
    expect(await countRows(server, `SELECT count(*)::int AS n FROM room_members WHERE room_id = $1 AND user_id = $2`, [roomId, people[2].id])).to.equal(0);
  });

  it('setTyping: 200 calls in a burst reach subscribers as a handful of events, ending in the last state', async () => {
    const server = await startServer();
    const { owner, member, roomId } = await staffedRoom(server.url);
    const TYPING = `subscription($r: ID!) { typing(roomId: $r) { isTyping } }`;
    const events = collect(wsClient(server, owner.token), TYPING, { r: roomId });
    await sleep(300);
    const SET = `mutation($r: ID!, $t: Boolean) { setTyping(roomId: $r, isTyping: $t) }`;
    for (let i = 0; i < 20; i++) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => ok(server.url, SET, { r: roomId, t: (i * 10 + j) % 2 === 0 }, member.token)));
    }
    await ok(server.url, SET, { r: roomId, t: false }, member.token);
    await sleep(2500);
    const states = events.data.map((d) => d.typing.isTyping);
    expect(states.length, JSON.stringify(states)).to.be.within(1, 6);
    expect(states.at(-1)).to.equal(false);
  });
});

describe('typing coalesced, not swallowed', () => {
  it('a subscriber who joins while someone types hears it with their next call, and a stop-start flicker ends as typing', async () => {
    const server = await startServer();
    const { owner, member, roomId } = await staffedRoom(server.url);
    const SET = `mutation($r: ID!, $t: Boolean) { setTyping(roomId: $r, isTyping: $t) }`;
    const TYPING = `subscription($r: ID!) { typing(roomId: $r) { isTyping } }`;
    // The member starts typing (published at once), stops and starts again within the second, as a
    // client does around a send; the owner opens the room in between.
    await ok(server.url, SET, { r: roomId, t: true }, member.token);
    await ok(server.url, SET, { r: roomId, t: false }, member.token);
    const events = collect(wsClient(server, owner.token), TYPING, { r: roomId });
    await sleep(200);
    await ok(server.url, SET, { r: roomId, t: true }, member.token);
    await waitFor(() => events.data.length > 0, 2000, 'the owner to hear the member typing');
    expect(events.data.map((d) => d.typing.isTyping)).to.deep.equal([true]);
    // Quiet: no more calls, no more events.
    await sleep(2300);
    expect(events.data).to.have.length(1);
  });
});

describe('an anonymous client cannot make the server validate for nothing', () => {
  const bigInvalid = `{ ${Array.from({ length: 700 }, (_, i) => `f${i}: nope${i}`).join(' ')} }`;

  it('refuses a request without a valid token before validating it (401, UNAUTHENTICATED, no statement)', async () => {
    const server = await startServer();
    for (const token of [null, 'not-a-token']) {
      const res = await gql(server.url, bigInvalid, {}, token);
      expect(res.status).to.equal(401);
      expect(res.errors?.map((e) => e.extensions.code)).to.deep.equal(['UNAUTHENTICATED']);
      expect(res.extensions?.sqlStatements).to.equal(undefined);
    }
  });

  it('stops reading a document past 1,000 tokens, before validation, even with a token', async () => {
    const server = await startServer();
    const user = await makeUser();
    const res = await gql(server.url, `{ ${Array.from({ length: 600 }, (_, i) => `a${i}: __typename`).join(' ')} }`, {}, user.token);
    expect(res.errors?.[0].extensions.code).to.equal('GRAPHQL_VALIDATION_FAILED');
    expect(res.errors?.[0].message).to.match(/tokens/);
  });

  it('still lets Sandbox introspect without a token outside production, and not in production', async () => {
    const dev = await startServer();
    expect((await gql(dev.url, '{ __schema { queryType { name } } }')).data).to.deep.equal({ __schema: { queryType: { name: 'Query' } } });
    expect((await gql(dev.url, '{ __schema { queryType { name } } me { id } }')).status).to.equal(401);
    const production = await startServer({ env: { NODE_ENV: 'production' } });
    expect((await gql(production.url, '{ __schema { queryType { name } } }')).status).to.equal(401);
  });
});
