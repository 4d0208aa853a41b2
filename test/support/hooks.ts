import { getMetadataArgsStorage } from 'typeorm';
import { createTestDatabase, type TestDatabase } from './database';
import { stopRedisCluster } from './redis-servers';
import { disposeLeftovers } from './server';

// TypeORM keeps its metadata in a global it creates on first use: create it before mocha's leak check starts.
getMetadataArgsStorage();

let database: TestDatabase | null = null;

/** The run's database URL, set before any test runs. */
export function testDatabaseUrl(): string {
  if (!database) throw new Error('The test database is not ready: tests must run under mocha with test/support/hooks.ts');
  return database.url;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(120_000);
    database = await createTestDatabase();
  },
  async afterEach() {
    await disposeLeftovers();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await disposeLeftovers();
    await stopRedisCluster();
    await database?.drop();
  },
};
