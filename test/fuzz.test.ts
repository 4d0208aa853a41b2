import { expect } from 'chai';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { signToken } from '../src/auth/token';
import { ok } from './support/client';
import { directRoom, groupRoom, send, staffedRoom } from './support/factories';
import { startServer, TEST_JWT_SECRET, type TestServer } from './support/server';
import type { GraphQLObjectType } from 'graphql';
import { buildChatSchema } from '../src/graphql/schema';
import { fuzzedArguments, httpBatch, wsBatch, type Fixture } from './fuzz/arbitraries';
import {
  actorSockets,
  batchJudge,
  checkHttp,
  checkWs,
  describeStats,
  expectServerAnswers,
  fingerprint,
  fitsHttp,
  fitsWsFrame,
  httpRequest,
  newStats,
  rowCounts,
  sendHttp,
  sendWs,
  type Stats,
} from './fuzz/oracles';

/*
 * Property-based fuzzing of the whole API surface, over HTTP and graphql-ws
 * (the generators are in fuzz/arbitraries.ts, the checks in fuzz/oracles.ts).
 * For every operation: no 5xx, no INTERNAL_SERVER_ERROR, every error coded,
 * nothing leaked; a batch in which nothing was accepted leaves the stored rows
 * exactly as they were.
 *
 * Replay a failure with FUZZ_SEED=<seed> (fast-check prints it; the server's
 * state differs between runs, so a replay is close, not exact); scale with
 * FUZZ_HTTP_RUNS / FUZZ_WS_RUNS; FUZZ_SKIP=http-subs,bad-extensions leaves out
 * categories, only to look past a known defect.
 */

const HTTP_BATCH = 9;
const DEFAULT_HTTP_RUNS = 1000; // 9,000 operations
const HTTP_RUNS = Number(process.env.FUZZ_HTTP_RUNS ?? DEFAULT_HTTP_RUNS);
const WS_BATCH = 10;
const DEFAULT_WS_RUNS = 220; // 2,200 operations
const WS_RUNS = Number(process.env.FUZZ_WS_RUNS ?? DEFAULT_WS_RUNS);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
/** Categories left out, to look past a known defect: `http-subs` (subscriptions over HTTP) and HTTP wire shapes such as `bad-extensions`. */
const skipped = (category: string) => (process.env.FUZZ_SKIP ?? '').split(',').includes(category);

describe('Fuzzing: generated valid and mutated operations over HTTP and WebSocket', () => {
  let server: TestServer;
  let fx: Fixture;
  /** The tallies of the tests that ran, printed after the suite. */
  const tallies = new Map<string, Stats>();

  before(async function () {
    this.timeout(60_000);
    // The run is after the handlers, not the limiter: one user sends, edits and creates rooms by the hundred.
    const unlimited = '1000000/10';
    server = await startServer({
      keep: true,
      env: { MESSAGE_RATE_LIMIT: unlimited, REACTION_RATE_LIMIT: unlimited, EDIT_RATE_LIMIT: unlimited, ROOM_RATE_LIMIT: unlimited, MEMBER_RATE_LIMIT: unlimited },
    });
    const staff = await staffedRoom(server.url);
    const { owner, admin, member, stranger, outsider, roomId } = staff;
    const otherRoomId = await groupRoom(server.url, owner, [stranger], 'Other');
    const directId = await directRoom(server.url, owner, member);
    const messages = [
      await send(server.url, owner, roomId, 'welcome'),
      await send(server.url, admin, roomId, 'hi', { metadata: { kind: 'note' }, clientId: 'fixture-1' }),
      await send(server.url, member, roomId, 'hey'),
      await send(server.url, owner, otherRoomId, 'elsewhere'),
      await send(server.url, member, directId, 'just us'),
    ];
    const emptyFp = await fingerprint(server);
    const doomed = await send(server.url, member, roomId, 'to be deleted');
    expect(await fingerprint(server), 'the fingerprint sees a new message').not.to.equal(emptyFp);
    await ok(server.url, `mutation($id: ID!) { deleteMessage(id: $id) { id } }`, { id: doomed.id }, member.token);
    await ok(server.url, `mutation($m: ID!) { addReaction(messageId: $m, reaction: "👍") { id } }`, { m: messages[0].id }, member.token);
    const encoder = new TextEncoder();
    const expired = await new SignJWT({ name: 'Expired' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(owner.id)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(encoder.encode(TEST_JWT_SECRET));
    fx = {
      users: { owner, admin, member, stranger, outsider },
      roomIds: [roomId, otherRoomId, directId],
      messageIds: [...messages.map((m) => m.id), doomed.id],
      userIds: [owner.id, admin.id, member.id, stranger.id, outsider.id],
      cursors: [
        (await ok(server.url, '{ changes { cursor } }', {}, owner.token)).changes.cursor,
        (await ok(server.url, 'query($id: ID!) { message(id: $id) { version } }', { id: messages[0].id }, owner.token)).message.version,
      ],
      badTokens: [
        { label: 'wrong-secret', token: await signToken('not-the-secret', { userId: owner.id, name: 'Forged' }) },
        { label: 'expired', token: expired },
        { label: 'sub-not-uuid', token: await signToken(TEST_JWT_SECRET, { userId: 'not-a-uuid', name: 'Odd' }) },
        { label: 'garbage', token: 'garbage.token.value' },
        { label: 'alg-none', token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: owner.id })).toString('base64url')}.` },
      ],
    };
  });

  after(async function () {
    this.timeout(30_000);
    for (const [name, stats] of tallies) process.stdout.write(`      ${describeStats(name, stats)}\n`);
    if (server) process.stdout.write(`      rows now: ${JSON.stringify(await rowCounts(server))}\n`);
    await server?.app.stop();
  });

  it(`survives ${HTTP_RUNS * HTTP_BATCH} generated HTTP operations: no 5xx, no INTERNAL_SERVER_ERROR, refused operations change no row, and the server still answers`, async function () {
    this.timeout(240_000);
    const stats = newStats();
    tallies.set('HTTP', stats);
    const batch = httpBatch(fx, { size: HTTP_BATCH, skipped, fits: fitsHttp });
    const judgeBatch = await batchJudge(server, stats);
    await fc.assert(
      fc.asyncProperty(batch, async (ops) => {
        const responses = await Promise.all(ops.map((op) => sendHttp(server.url, httpRequest(op))));
        const problems = await judgeBatch(ops, responses.map((res, i) => checkHttp(ops[i], res, stats)));
        if (problems.length) throw new Error(problems.join('\n'));
      }),
      { numRuns: HTTP_RUNS, ...(SEED !== undefined && { seed: SEED }) },
    );
    expect(stats.ops, 'HTTP operations run').to.be.at.least(HTTP_RUNS * HTTP_BATCH);
    await expectServerAnswers(server, fx.users.owner);
  });

  it(`survives ${WS_RUNS * WS_BATCH} generated graphql-ws operations (queries, mutations, subscriptions) with the socket open throughout, and the server still answers`, async function () {
    this.timeout(240_000);
    const stats = newStats();
    tallies.set('WebSocket', stats);
    const batch = wsBatch(fx, { size: WS_BATCH, fits: fitsWsFrame });
    const sockets = actorSockets(server, fx.users);
    const judgeBatch = await batchJudge(server, stats);
    await fc.assert(
      fc.asyncProperty(batch, async (ops) => {
        const outcomes = await Promise.all(ops.map((op) => sendWs(sockets.of(op.actor), op)));
        const problems = await judgeBatch(ops, outcomes.map((out, i) => checkWs(ops[i], out, stats)));
        for (const name of sockets.closed()) problems.push(`the ${name} socket closed during the batch`);
        if (problems.length) throw new Error(problems.join('\n'));
      }),
      { numRuns: WS_RUNS, ...(SEED !== undefined && { seed: SEED }) },
    );
    expect(stats.ops, 'graphql-ws operations run').to.be.at.least(WS_RUNS * WS_BATCH);
    await expectServerAnswers(server, fx.users.owner);
  });

  it('ran every operation it budgeted: at least 10,000 in all by default', function () {
    // Needs the two runs above (mocha runs a file's tests in order): what they really sent, counted as it went out.
    if (tallies.size < 2) this.skip();
    const ran = [...tallies.values()].reduce((sum, t) => sum + t.ops, 0);
    expect(ran, 'operations sent').to.be.at.least(HTTP_RUNS * HTTP_BATCH + WS_RUNS * WS_BATCH);
    if (HTTP_RUNS === DEFAULT_HTTP_RUNS && WS_RUNS === DEFAULT_WS_RUNS) expect(ran).to.be.at.least(10_000);
  });

  it("gives every argument of the schema's operations generated values (a new argument cannot go unfuzzed)", () => {
    const schema = buildChatSchema();
    const wanted: string[] = [];
    for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const field of Object.values(type?.getFields() ?? {})) for (const arg of field.args) wanted.push(`${type?.name}.${field.name}(${arg.name})`);
    }
    for (const nested of ['messages', 'members']) {
      for (const arg of (schema.getType('Room') as GraphQLObjectType).getFields()[nested].args) wanted.push(`Room.${nested}(${arg.name})`);
    }
    const covered = fuzzedArguments(fx);
    expect(wanted.filter((w) => !covered.has(w)), 'arguments without generators in test/fuzz/arbitraries.ts').to.deep.equal([]);
  });
});
