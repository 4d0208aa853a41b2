import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded-postgres';
import { migrations } from '../src/db/migrations';
import { makeUser, ok } from './support/client';
import { testDatabaseUrl } from './support/hooks';
import { onCleanup, startServer } from './support/server';

/** A loopback port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function queryOnce<T>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

describe('starting up', () => {
  describe('the embedded PostgreSQL', () => {
    let dataDir: string;
    const running: EmbeddedDatabase[] = [];

    before(() => {
      // A data folder inside a private (0700) folder, as a checkout under /root would be.
      dataDir = join(mkdtempSync(join(tmpdir(), 'chat-embedded-')), 'data');
    });

    afterEach(async () => {
      while (running.length > 0) await running.pop()!.stop();
    });

    after(() => rmSync(join(dataDir, '..'), { recursive: true, force: true }));

    it('serves on a second start over the same data folder, which stays private to PostgreSQL', async function () {
      this.timeout(120_000);
      const port = await freePort();
      running.push(await startEmbeddedPostgres({ dataDir, port }));
      await running.pop()!.stop();
      expect(statSync(dataDir).mode & 0o777).to.be.oneOf([0o700, 0o750]);

      const again = await startEmbeddedPostgres({ dataDir, port });
      running.push(again);
      expect(await queryOnce<{ one: number }>(again.url, 'SELECT 1 AS one')).to.deep.equal([{ one: 1 }]);
      // PostgreSQL refuses a data directory others may enter: 0700 or 0750 only.
      expect(statSync(dataDir).mode & 0o777).to.be.oneOf([0o700, 0o750]);
      if (process.getuid?.() === 0) {
        // The postgres user passes through the folders above it (search bit), never into it.
        expect(statSync(join(dataDir, '..')).mode & 0o001).to.equal(0o001);
      }
    });

    it('takes back the o+x an earlier version gave the data folder itself, so it starts again', async function () {
      if (process.getuid?.() !== 0) this.skip(); // only root ever changed it
      this.timeout(120_000);
      const port = await freePort();
      running.push(await startEmbeddedPostgres({ dataDir, port }));
      await running.pop()!.stop();
      chmodSync(dataDir, 0o701);

      const warnings: string[] = [];
      running.push(await startEmbeddedPostgres({ dataDir, port, warn: (line) => warnings.push(line) }));
      expect(statSync(dataDir).mode & 0o777).to.equal(0o700);
      expect(warnings.join('\n')).to.include(`${dataDir} was 701, now 700`);
    });

    it("reports PostgreSQL's own words when it cannot start (the data folder is in use by another one)", async function () {
      this.timeout(120_000);
      const first = await startEmbeddedPostgres({ dataDir, port: await freePort() });
      running.push(first);
      let failure: unknown = 'no failure';
      try {
        running.push(await startEmbeddedPostgres({ dataDir, port: await freePort() }));
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.an('error');
      const message = (failure as Error).message;
      // PostgreSQL's lock-file message and its hint, the folder and the port, not "undefined".
      expect(message).to.include('postmaster.pid');
      expect(message).to.match(/HINT: +Is another postmaster/);
      expect(message).to.include(dataDir);
      // The first one is unharmed.
      expect(await queryOnce<{ one: number }>(first.url, 'SELECT 1 AS one')).to.deep.equal([{ one: 1 }]);
    });
  });

  it('migrates an empty database once when three servers start on it together, and all three serve', async function () {
    this.timeout(60_000);
    const name = `chat_migrate_${randomBytes(4).toString('hex')}`;
    const admin = new URL(testDatabaseUrl());
    const url = new URL(admin.toString());
    url.pathname = `/${name}`;
    await queryOnce(admin.toString(), `CREATE DATABASE ${name}`);
    // Registered first, so it runs after the servers are stopped.
    onCleanup(() => queryOnce(admin.toString(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

    const started = await Promise.allSettled([1, 2, 3].map(() => startServer({ env: { DATABASE_URL: url.toString() } })));
    const failures = started.flatMap((s) => (s.status === 'rejected' ? [String((s.reason as Error)?.message ?? s.reason)] : []));
    expect(failures, 'servers that failed to start').to.deep.equal([]);

    const applied = await queryOnce<{ name: string; n: number }>(url.toString(), `SELECT name, count(*)::int AS n FROM typeorm_migrations GROUP BY name`);
    expect(applied).to.have.length(migrations.length);
    expect(applied.filter((m) => m.n !== 1), 'migrations applied more than once').to.deep.equal([]);
    const user = await makeUser();
    for (const s of started) {
      if (s.status === 'fulfilled') await ok(s.value.url, '{ me { id } }', {}, user.token);
    }
  });
});
