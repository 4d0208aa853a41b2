import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { Client } from 'pg';
import { gql, makeUser, ok, signIn } from './support/client';
import { groupRoom } from './support/factories';
import { testDatabaseUrl } from './support/hooks';
import { onCleanup, startServer, wsClient } from './support/server';
import { startRedisServer } from './support/redis-servers';
import { sleep } from './support/ws';

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

describe('faults', () => {
  it('survives its PostgreSQL connections being terminated mid-load; retries with the same clientId store each message once', async function () {
    this.timeout(60_000);
    const server = await startServer({ env: { MESSAGE_RATE_LIMIT: '100000/10' } });
    const owner = await signIn(server.url, await makeUser());
    const roomId = await groupRoom(server.url, owner);
    const clientIds = Array.from({ length: 120 }, (_, i) => `fault-${i}-${randomUUID()}`);
    let failures = 0;

    // The killer: terminates every connection of the server's database, three times, during the load.
    const killer = (async () => {
      const admin = new Client({ connectionString: testDatabaseUrl() });
      await admin.connect();
      try {
        for (let i = 0; i < 3; i++) {
          await sleep(150);
          await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
        }
      } finally {
        await admin.end();
      }
    })();

    // Eight clients, each sending its share and retrying a failed send with the same clientId.
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (const clientId of clientIds.filter((_, i) => i % 8 === w)) {
          await within(10_000, async () => {
            const res = await gql(server.url, SEND, { input: { roomId, content: clientId, clientId } }, owner.token);
            expect(res.status).to.be.below(500);
            if (res.errors) {
              failures += 1;
              expect(res.errors[0].extensions.code).to.equal('INTERNAL_SERVER_ERROR');
              throw new Error(res.errors[0].message);
            }
            return res.data;
          });
        }
      }),
    );
    await killer;

    const rows: { client_id: string; n: number }[] = await server.app.db.query(
      `SELECT client_id, count(*)::int AS n FROM messages WHERE room_id = $1 GROUP BY client_id`,
      [roomId],
    );
    expect(rows).to.have.length(clientIds.length);
    expect(rows.every((r) => r.n === 1)).to.equal(true);
    const seqs: { seq: number }[] = await server.app.db.query(`SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq`, [roomId]);
    expect(seqs.map((r) => r.seq)).to.deep.equal(clientIds.map((_, i) => i + 1));
    // The process is alive and answers.
    await ok(server.url, '{ me { id } }', {}, owner.token);
    if (failures === 0) this.test!.title += ' (no request happened to fail this run)';
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

  it('says the database is unavailable while it cannot be reached, /ready reports it, and recovers', async function () {
    this.timeout(30_000);
    const db = new URL(testDatabaseUrl());
    const proxy = await tcpProxy(Number(db.port || 5432));
    onCleanup(() => proxy.close());
    const viaProxy = new URL(db.toString());
    viaProxy.port = String(proxy.port);
    viaProxy.hostname = '127.0.0.1';
    const server = await startServer({ env: { DATABASE_URL: viaProxy.toString() } });
    const owner = await signIn(server.url, await makeUser());
    const readyUrl = server.url.replace('/graphql', '/ready');

    proxy.down();
    const res = await gql(server.url, `{ rooms { total } }`, {}, owner.token);
    expect(res.status).to.be.below(500);
    expect(res.errors?.[0].extensions.code).to.equal('INTERNAL_SERVER_ERROR');
    expect(res.errors?.[0].message).to.match(/^Service temporarily unavailable: the database cannot be reached; retry shortly \(ref [0-9a-f-]{36}\)$/);
    const ready = await fetch(readyUrl);
    expect(ready.status).to.equal(503);
    expect(((await ready.json()) as { checks: { database: boolean } }).checks.database).to.equal(false);

    await proxy.up();
    const { tookMs } = await within(10_000, () => ok(server.url, `{ rooms { total } }`, {}, owner.token));
    expect(tookMs).to.be.below(10_000);
    expect((await fetch(readyUrl)).status).to.equal(200);
  });

  it('keeps serving while Redis is down and delivers events again once it is back', async function () {
    this.timeout(60_000);
    const port = 16000 + Math.floor(Math.random() * 1000);
    let redis = await startRedisServer(port);
    onCleanup(() => redis.kill('SIGKILL'));
    const server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
    const owner = await signIn(server.url, await makeUser());
    const member = await signIn(server.url, await makeUser());
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
