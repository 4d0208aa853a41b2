import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Client } from 'pg';
import pino from 'pino';
import { gql, makeUser, ok, type GraphQLResponse, newUser } from './support/client';
import { groupRoom } from './support/factories';
import { testDatabaseUrl } from './support/hooks';
import { onCleanup, startServer, wsClient } from './support/server';
import { startRedisServer } from './support/redis-servers';
import { closeCodeOf, sleep, waitFor } from './support/ws';

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq clientId } }`;

/** Retries until `fn` resolves, for at most `ms`; returns how long it took. */
async function within<T>(ms: number, fn: () => Promise<T>): Promise<{ value: T; tookMs: number }> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < ms) {
    try {
      return { value: await fn(), tookMs: Date.now() - started };
    } catch (error) {
      last = error;
      await sleep(200);
    }
  }
  throw new Error(`not recovered within ${ms} ms: ${String(last)}`);
}

/** A TCP proxy to PostgreSQL that the test can cut (every connection dropped, new ones refused) and restore. */
async function tcpProxy(targetPort: number) {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = net.createServer((client) => {
        const upstream = net.connect(targetPort, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  const down = () => {
    server?.close();
    server = null;
    for (const s of sockets) s.destroy();
  };
  return { port, down, up: listen, close: down };
}

interface LogLine {
  msg: string;
  errorId?: string;
  [key: string]: unknown;
}

/** A server whose PostgreSQL is reached through a proxy the test cuts and restores, with its log lines captured. */
async function serverBehindProxy() {
  const db = new URL(testDatabaseUrl());
  const proxy = await tcpProxy(Number(db.port || 5432));
  onCleanup(() => proxy.close());
  const viaProxy = new URL(db.toString());
  viaProxy.port = String(proxy.port);
  viaProxy.hostname = '127.0.0.1';
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const server = await startServer({ env: { DATABASE_URL: viaProxy.toString() }, logger });
  return { server, proxy, lines };
}

/** The answer while the database is away: 503, masked (no driver text, no address), its id in a log line. */
function expectUnavailable(res: GraphQLResponse, lines: LogLine[]): void {
  expect(res.status, JSON.stringify(res.errors)).to.equal(503);
  expect(res.errors?.[0].extensions.code).to.equal('INTERNAL_SERVER_ERROR');
  expect(res.errors?.[0].message).to.match(/^Service temporarily unavailable: the database cannot be reached; retry shortly \(ref [0-9a-f-]{36}\)$/);
  expect(JSON.stringify(res.errors)).not.to.match(/ECONNREFUSED|127\.0\.0\.1|5432/);
  const errorId = res.errors?.[0].extensions.errorId;
  expect(lines.some((l) => l.errorId === errorId && l.msg === 'database unavailable'), 'a log line with the same id').to.equal(true);
}

describe('faults', () => {
  it('stores each message once, gap-free, when sends fail mid-statement and clients retry them with the same clientId', async function () {
    this.timeout(60_000);
    const server = await startServer({ env: { MESSAGE_RATE_LIMIT: '100000/10' } });
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);
    const clientIds = Array.from({ length: 96 }, (_, i) => `fault-${i}-${randomUUID()}`);
    const seen = { failed: 0, abandoned: 0, terminated: 0 };

    // One attempt; a client that gives up after `abandonAfterMs` leaves its send running on the server.
    const attempt = async (clientId: string, abandonAfterMs?: number): Promise<string | null> => {
      let res: Response;
      try {
        res = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
          body: JSON.stringify({ query: SEND, variables: { input: { roomId, content: clientId, clientId } } }),
          signal: abandonAfterMs === undefined ? undefined : AbortSignal.timeout(abandonAfterMs),
        });
      } catch (error) {
        if ((error as Error).name !== 'TimeoutError') throw error;
        seen.abandoned += 1;
        return null;
      }
      const body = (await res.json()) as { data?: { sendMessage: { clientId: string } }; errors?: { message: string; extensions: { code: string } }[] };
      if (!body.errors) return body.data!.sendMessage.clientId;
      // A send whose statement was ended while it ran: the database went away under it, retry later.
      expect(res.status, JSON.stringify(body.errors)).to.equal(503);
      expect(body.errors[0].extensions.code).to.equal('INTERNAL_SERVER_ERROR');
      expect(body.errors[0].message).to.match(/^Service temporarily unavailable/);
      seen.failed += 1;
      return null;
    };

    // The blocker holds the room's row lock (every send bumps rooms.last_seq under it), so sends pile up
    // running; those that have waited a while are terminated: too late for Database.query to send them
    // again (only a statement that fails at once is), so the request fails and its client retries.
    const admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    onCleanup(() => admin.end());
    const holdRoom = async () => {
      await admin.query('BEGIN');
      await admin.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [roomId]);
    };
    // clock_timestamp(), not now(): the blocker's now() stands still at its BEGIN.
    const terminateWaitingSends = async () => {
      const { rows } = await admin.query(
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'chat-api' AND state = 'active'
            AND wait_event_type = 'Lock' AND clock_timestamp() - query_start > interval '200 milliseconds'`,
      );
      return rows[0].n as number;
    };
    let loadDone = false;
    await holdRoom();
    const blocker = (async () => {
      for (let round = 1; round <= 3; round++) {
        // Bounded: at most 5 s per round for sends to have waited long enough.
        for (let poll = 0; poll < 50 && !loadDone; poll++) {
          await sleep(100);
          const ended = await terminateWaitingSends();
          seen.terminated += ended;
          if (ended > 0) break;
        }
        await admin.query('ROLLBACK');
        if (loadDone || round === 3) return;
        await sleep(150);
        await holdRoom();
      }
    })();

    // Eight clients, each sending its share and retrying every failed send with the same clientId;
    // half of them also give up on a send after 150 ms, so a retry may meet its first attempt still running.
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (const clientId of clientIds.filter((_, i) => i % 8 === w)) {
          let stored: string | null = null;
          for (let tries = 0; tries < 100 && stored === null; tries++) {
            stored = await attempt(clientId, w % 2 === 1 ? 150 : undefined);
            if (stored === null) await sleep(50);
          }
          expect(stored, `${clientId} after 100 attempts`).to.equal(clientId);
        }
      }),
    ).finally(() => (loadDone = true));
    // Both settle before any failure is reported: the blocker must not outlive the test's connection.
    for (const outcome of await Promise.allSettled([load, blocker])) {
      if (outcome.status === 'rejected') throw outcome.reason;
    }

    // The test proves something only if sends really failed on the server, and clients gave some up.
    expect(seen.terminated, 'sends terminated while they ran').to.be.greaterThan(0);
    expect(seen.failed, 'requests that failed and were retried').to.be.greaterThan(0);
    expect(seen.abandoned, 'requests a client gave up on').to.be.greaterThan(0);
    const rows: { client_id: string; n: number }[] = await server.app.db.query(
      `SELECT client_id, count(*)::int AS n FROM messages WHERE room_id = $1 GROUP BY client_id`,
      [roomId],
    );
    expect(rows.map((r) => r.client_id).sort()).to.deep.equal([...clientIds].sort());
    expect(rows.filter((r) => r.n !== 1), 'clientIds stored more than once').to.deep.equal([]);
    const seqs: { seq: number }[] = await server.app.db.query(`SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq`, [roomId]);
    expect(seqs.map((r) => r.seq)).to.deep.equal(clientIds.map((_, i) => i + 1));
    // The process is alive and answers.
    await ok(server.url, '{ me { id } }', {}, owner.token);
  });

  it('answers a statement or a transaction handed to a pooled connection whose backend was terminated while it sat idle (a database restart)', async function () {
    this.timeout(30_000);
    const server = await startServer();
    const { db } = server.app;
    const terminateAll = () =>
      // Synchronous on purpose: the server's event loop reads nothing meanwhile, so its idle
      // connections have not yet heard they were ended when the next statement goes out on one.
      execFileSync('psql', [testDatabaseUrl(), '-qAtc', `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`]);
    await Promise.all(Array.from({ length: 4 }, () => db.query(`SELECT pg_sleep(0.05)`)));

    terminateAll();
    expect(await db.query(`SELECT 1 AS one`)).to.deep.equal([{ one: 1 }]);

    await Promise.all(Array.from({ length: 4 }, () => db.query(`SELECT pg_sleep(0.05)`)));
    terminateAll();
    expect(await db.transaction((tx) => tx.query(`SELECT 2 AS two`))).to.deep.equal([{ two: 2 }]);
  });

  it('does not send again a statement an operator ended while it ran (a runaway query stays stopped)', async function () {
    this.timeout(30_000);
    const server = await startServer();
    const outcome = server.app.db.query(`SELECT pg_sleep(3), 'slow query' AS marker`).then(
      () => null,
      (e: { code?: string }) => e,
    );
    const admin = new Client({ connectionString: testDatabaseUrl() });
    await admin.connect();
    onCleanup(() => admin.end());
    let ended = 0;
    for (let i = 0; i < 50 && ended === 0; i++) {
      await sleep(100);
      const { rows } = await admin.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE query LIKE '%''slow query''%' AND pid <> pg_backend_pid()`);
      ended = rows[0].n;
    }
    expect(ended).to.equal(1);
    expect((await outcome)?.code).to.equal('57P01');
  });

  it('answers 503 with a masked, logged error while the database cannot be reached, /ready reports it, and recovers', async function () {
    this.timeout(30_000);
    const { server, proxy, lines } = await serverBehindProxy();
    const owner = await newUser(server.url);
    const readyUrl = server.url.replace('/graphql', '/ready');

    proxy.down();
    // A token the server has seen: its request reaches the resolvers, which meet the outage.
    const res = await gql(server.url, `{ rooms { total } }`, {}, owner.token);
    expectUnavailable(res, lines);
    const write = await gql(server.url, SEND, { input: { roomId: randomUUID(), content: 'while down' } }, owner.token);
    expectUnavailable(write, lines);
    const ready = await fetch(readyUrl);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { checks: { database: boolean } }).checks.database).to.equal(false);

    await proxy.up();
    const { tookMs } = await within(10_000, () => ok(server.url, `{ rooms { total } }`, {}, owner.token));
    expect(tookMs).to.be.below(10_000);
    expect((await fetch(readyUrl)).status).to.equal(200);
  });

  it('never signs a client out during an outage: a token it has not seen yet gets 503 over HTTP and a retryable close over WebSocket, and works once the database is back', async function () {
    this.timeout(30_000);
    const { server, proxy, lines } = await serverBehindProxy();
    const newcomer = await makeUser();
    const latecomer = await makeUser();

    proxy.down();
    // Its users row must be written before it can be served: that needs the database.
    const res = await gql(server.url, `{ me { id } }`, {}, newcomer.token);
    expectUnavailable(res, lines);
    expect(res.headers.get('www-authenticate'), 'no challenge: the token is fine').to.equal(null);

    // graphql-ws's client treats 4401 as fatal (sign in again); 1013 Try Again Later it retries.
    const loggedBefore = lines.filter((l) => l.msg === 'database unavailable').length;
    expect(await closeCodeOf(server, `Bearer ${newcomer.token}`)).to.equal(1013);
    const logged = lines.filter((l) => l.msg === 'database unavailable');
    expect(logged, 'the WebSocket refusal is logged').to.have.length(loggedBefore + 1);
    expect(logged.at(-1)?.errorId).to.match(/^[0-9a-f-]{36}$/);
    const closes: number[] = [];
    let connected = false;
    wsClient(server, latecomer.token, {
      retryAttempts: 200,
      retryWait: () => sleep(100),
      on: { closed: (event) => void closes.push((event as { code: number }).code), connected: () => (connected = true) },
    });
    await waitFor(() => closes.length > 0, 5000, 'the socket to be refused while the database is down');

    await proxy.up();
    await waitFor(() => connected, 15_000, 'the retrying client to be acknowledged once the database is back');
    expect(closes.filter((code) => code !== 1013), 'closes other than Try Again Later').to.deep.equal([]);
    const { value } = await within(10_000, () => ok(server.url, `{ me { id } }`, {}, newcomer.token));
    expect(value.me.id).to.equal(newcomer.id);
  });

  it('keeps serving while Redis is down and delivers events again once it is back', async function () {
    this.timeout(60_000);
    const port = 16000 + Math.floor(Math.random() * 1000);
    let redis = await startRedisServer(port);
    onCleanup(() => redis.kill('SIGKILL'));
    const server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    const owner = await newUser(server.url);
    const member = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner, [member]);
    const otherRoomId = await groupRoom(server.url, owner, [member]);
    const received: string[] = [];
    const client = wsClient(server, member.token);
    client.subscribe(
      { query: `subscription($r: ID) { messageAdded(roomId: $r) { content } }`, variables: { r: roomId } },
      { next: (v) => received.push((v.data as { messageAdded: { content: string } }).messageAdded.content), error: () => {}, complete: () => {} },
    );
    await within(5_000, async () => {
      await ok(server.url, SEND, { input: { roomId, content: `before-${received.length}` } }, owner.token);
      if (received.length === 0) throw new Error('no event yet');
    });

    redis.kill('SIGKILL');
    await new Promise((r) => redis.once('exit', r));
    // Writes still work without Redis; their events are lost, not the process.
    await ok(server.url, SEND, { input: { roomId, content: 'while-down' } }, owner.token);
    const downReady = await within(5_000, async () => {
      const res = await fetch(server.url.replace('/graphql', '/ready'));
      if (res.status !== 503) throw new Error(`ready answered ${res.status}`);
      return (await res.json()) as { checks: Record<string, boolean> };
    });
    expect(downReady.value.checks).to.deep.include({ database: true, redis: false });
    // A subscription to a room nobody here watched yet starts while Redis is away, and hears the room once it is back.
    const receivedLater: string[] = [];
    client.subscribe(
      { query: `subscription($r: ID) { messageAdded(roomId: $r) { content } }`, variables: { r: otherRoomId } },
      { next: (v) => receivedLater.push((v.data as { messageAdded: { content: string } }).messageAdded.content), error: () => {}, complete: () => {} },
    );
    // Long enough for the client to fail a few reconnects meanwhile.
    await sleep(3000);

    redis = await startRedisServer(port);
    const { tookMs } = await within(10_000, async () => {
      const content = `after-${randomUUID()}`;
      await ok(server.url, SEND, { input: { roomId, content } }, owner.token);
      await sleep(300);
      if (!received.includes(content)) throw new Error('events are not flowing yet');
    });
    expect(tookMs).to.be.below(10_000);
    await within(10_000, async () => {
      const content = `later-${randomUUID()}`;
      await ok(server.url, SEND, { input: { roomId: otherRoomId, content } }, owner.token);
      await sleep(300);
      if (!receivedLater.includes(content)) throw new Error('the room subscribed while Redis was down is not heard');
    });
    expect((await fetch(server.url.replace('/graphql', '/ready'))).status).to.equal(200);
  });
});
