import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Runs `probe` against a database of its own on DATABASE_URL's server (a role
 * that may CREATE DATABASE), dropped afterwards whatever happens; exits the
 * process with 1 when the probe fails. For the one-file probes (orm-vs-sql,
 * write-path), which the suite's seeding does not serve.
 */
export function runOnScratchDatabase(prefix: string, probe: (url: string) => Promise<void>): void {
  const main = async () => {
    const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `${prefix}_${randomBytes(4).toString('hex')}`;
    const admin = new Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    try {
      await probe(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  };
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
