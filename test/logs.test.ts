import { Writable } from 'node:stream';
import { expect } from 'chai';
import pino from 'pino';
import { createLogger } from '../src/logger';
import { gql, makeUser, ok, signIn } from './support/client';
import { groupRoom } from './support/factories';
import { startServer, wsClient } from './support/server';
import { closeCodeOf, collect, waitFor } from './support/ws';

interface Line {
  msg: string;
  level: number;
  transport?: string;
  operationName?: string | null;
  operationType?: string | null;
  durationMs?: number;
  outcome?: string;
  status?: number;
  userId?: string | null;
  errorId?: string;
  code?: number | null;
}

/** A server whose log lines land in an array. */
async function loggedServer(env: Record<string, string> = {}) {
  const lines: Line[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const server = await startServer({ logger, env });
  const requests = () => lines.filter((l) => l.msg === 'graphql request');
  return { server, lines, requests };
}

describe('Logs: one line per request and per socket', () => {
  it('writes one line per HTTP request with its operation, type, duration, outcome and user', async () => {
    const { server, requests } = await loggedServer();
    const alice = await makeUser();
    await ok(server.url, 'query Whoami { me { id } }', {}, alice.token);
    const roomId = await groupRoom(server.url, alice);
    await ok(server.url, 'mutation Say($input: SendMessageInput!) { sendMessage(input: $input) { id } }', { input: { roomId, content: 'hi' } }, alice.token);
    const notFound = await gql(server.url, 'query Peek($id: ID!) { room(id: $id) { id } }', { id: '00000000-0000-4000-8000-000000000000' }, alice.token);
    expect(notFound.errors?.[0].extensions.code).to.equal('NOT_FOUND');

    const [whoami, , say, peek] = requests();
    expect(requests()).to.have.length(4);
    expect(whoami).to.deep.include({ transport: 'http', operationName: 'Whoami', operationType: 'query', outcome: 'OK', status: 200, userId: alice.id });
    expect(whoami.durationMs).to.be.a('number').and.to.be.at.least(0);
    expect(whoami).not.to.have.property('errorId');
    expect(say).to.deep.include({ operationName: 'Say', operationType: 'mutation', outcome: 'OK', userId: alice.id });
    expect(peek).to.deep.include({ operationName: 'Peek', operationType: 'query', outcome: 'NOT_FOUND', userId: alice.id });
  });

  it('writes the line of a request refused before it runs: no token, a bad token, a document too large, a bad body, an invalid document', async () => {
    const { server, requests } = await loggedServer();
    const user = await makeUser();
    await gql(server.url, '{ me { id } }');
    await gql(server.url, '{ me { id } }', {}, 'not-a-token');
    await gql(server.url, `{ me { id ${' '.repeat(25_000)} } }`, {}, user.token);
    await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` }, body: '{"query": ' });
    await gql(server.url, 'query Broken { me { nope } }', {}, user.token);
    expect(requests().map((l) => [l.outcome, l.status, l.userId, l.operationName])).to.deep.equal([
      ['UNAUTHENTICATED', 401, null, null],
      ['UNAUTHENTICATED', 401, null, null],
      ['GRAPHQL_VALIDATION_FAILED', 400, null, null],
      ['BAD_USER_INPUT', 400, null, null],
      ['GRAPHQL_VALIDATION_FAILED', 400, user.id, null],
    ]);
  });

  it('carries the id of a masked error, the one the client got and the error line has', async () => {
    const { server, lines, requests } = await loggedServer();
    const user = await signIn(server.url, await makeUser());
    server.app.services.changes.changes = async () => {
      throw new TypeError('the changes feed broke at 10.0.0.7');
    };
    const res = await gql(server.url, 'query Feed { changes { cursor } }', {}, user.token);
    const errorId = res.errors?.[0].extensions.errorId as string;
    expect(errorId).to.match(/^[0-9a-f-]{36}$/);
    expect(requests().at(-1)).to.deep.include({ operationName: 'Feed', outcome: 'INTERNAL_SERVER_ERROR', errorId, userId: user.id });
    expect(lines.some((l) => l.msg === 'unexpected error while serving a request' && l.errorId === errorId)).to.equal(true);

    // Failing while the token is checked (before Apollo) is logged the same way.
    server.app.repos.users.upsertFromClaims = async () => {
      throw new TypeError('users row writer broke');
    };
    const failed = await gql(server.url, '{ me { id } }', {}, (await makeUser()).token);
    expect(failed.status).to.equal(500);
    expect(requests().at(-1)).to.deep.include({ outcome: 'INTERNAL_SERVER_ERROR', status: 500, errorId: failed.errors?.[0].extensions.errorId });
  });

  it('writes a line when a socket opens and when it closes, with its user, close code and duration', async () => {
    const { server, lines } = await loggedServer();
    const alice = await makeUser();
    const client = wsClient(server, alice.token);
    const sub = collect(client, 'subscription { typing { isTyping } }');
    await waitFor(() => lines.some((l) => l.msg === 'socket opened'), 5000, 'the open line');
    expect(lines.find((l) => l.msg === 'socket opened')).to.deep.include({ transport: 'ws', userId: alice.id });
    sub.stop();
    await client.dispose();
    await waitFor(() => lines.some((l) => l.msg === 'socket closed'), 5000, 'the close line');
    const closed = lines.find((l) => l.msg === 'socket closed') as Line;
    expect(closed).to.deep.include({ transport: 'ws', userId: alice.id, code: 1000 });
    expect(closed.durationMs).to.be.a('number').and.at.least(0);

    expect(await closeCodeOf(server, 'Bearer not-a-token')).to.equal(4401);
    await waitFor(() => lines.filter((l) => l.msg === 'socket closed').length === 2, 5000, 'the refused socket line');
    expect(lines.filter((l) => l.msg === 'socket closed')[1]).to.deep.include({ userId: null, code: 4401, durationMs: null });
    expect(lines.filter((l) => l.msg === 'socket opened'), 'a refused socket never opened').to.have.length(1);
  });

  it('prints readable times and level names in the pretty format (development), and the request fields on the same line', async () => {
    let text = '';
    const destination = new Writable({
      write(chunk, _encoding, done) {
        text += String(chunk);
        done();
      },
    });
    const logger = createLogger('info', { format: 'pretty', destination });
    const server = await startServer({ logger });
    const user = await makeUser();
    await ok(server.url, 'query Whoami { me { id } }', {}, user.token);
    const line = text.split('\n').find((l) => l.includes('graphql request')) as string;
    expect(line, text).to.match(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: graphql request \{.*"operationName":"Whoami".*"outcome":"OK"/);
    expect(line).to.include(`"userId":"${user.id}"`);
    expect(text, 'no epoch times or numeric levels').not.to.match(/"time":\d+|"level":\d+/);
  });
});
