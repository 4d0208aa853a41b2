import { expect } from 'chai';
import { Client } from 'pg';
import { gql, newUser } from './support/client';
import { groupRoom } from './support/factories';
import { testDatabaseUrl } from './support/hooks';
import { startServerProcess } from './support/process';
import { onCleanup, wsClient } from './support/server';

describe('shutdown on SIGTERM', () => {
  it('finishes in-flight requests, closes sockets so clients reconnect, and exits within 10 s', async function () {
    this.timeout(60_000);
    // Each send alone: all 15 of one sender reach the lock at once (batched, a room has one statement at a time).
    const server = await startServerProcess({ SEND_BATCH_CONCURRENCY: '0' });
    const owner = await newUser(server.url);
    const roomId = await groupRoom(server.url, owner);

    const closes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const client = wsClient(server, owner.token, { on: { closed: (event) => closes.push((event as { code: number }).code) } });
      client.subscribe({ query: `subscription($r: ID) { messageAdded(roomId: $r) { id } }`, variables: { r: roomId } }, { next: () => {}, error: () => {}, complete: () => {} });
    }
    await new Promise((r) => setTimeout(r, 300));

    // Hold the room's row lock so the sends are provably in flight (waiting inside the server) at SIGTERM.
    const locker = new Client({ connectionString: testDatabaseUrl() });
    await locker.connect();
    onCleanup(() => locker.end());
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [roomId]);
    const inFlight = Array.from({ length: 15 }, (_, i) =>
      gql(server.url, `mutation($input: SendMessageInput!) { sendMessage(input: $input) { seq } }`, { input: { roomId, content: `last words ${i}` } }, owner.token),
    );
    // Watched from a connection outside the locking transaction: pg_stat_activity is a per-transaction snapshot.
    const watcher = new Client({ connectionString: testDatabaseUrl() });
    await watcher.connect();
    onCleanup(() => watcher.end());
    for (let waited = 0; ; waited += 50) {
      const { rows } = await watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
      if (rows[0].n === 15) break;
      if (waited > 10_000) throw new Error(`only ${rows[0].n} of 15 sends reached the lock`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const signalledAt = Date.now();
    server.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await locker.query('COMMIT');

    const responses = await Promise.all(inFlight);
    for (const res of responses) {
      expect(res.errors, JSON.stringify(res.errors)).to.equal(undefined);
      expect(res.data?.sendMessage.seq).to.be.a('number');
    }
    const exitCode = await new Promise<number | null>((r) => (server.child.exitCode !== null ? r(server.child.exitCode) : server.child.once('exit', r)));
    expect(exitCode).to.equal(0);
    expect(Date.now() - signalledAt).to.be.below(10_000);
    // graphql-ws closes each socket with 1001 Going Away, which clients treat as "reconnect".
    expect(closes).to.deep.equal([1001, 1001, 1001]);
    // New connections are refused once it is gone.
    const after = await fetch(server.url.replace('/graphql', '/health')).then(() => 'answered', () => 'refused');
    expect(after).to.equal('refused');
  });
});
