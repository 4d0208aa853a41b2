import { WebSocket } from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { createApp, type App, type AppOptions } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/logger';
import { testDatabaseUrl } from './hooks';

export const TEST_JWT_SECRET = 'test-secret-for-the-chat-api-tests';

/** Things a test started and must stop, started servers first (graphql-ws's `leftovers`). */
const leftovers: (() => Promise<unknown> | unknown)[] = [];

export function onCleanup(dispose: () => Promise<unknown> | unknown): void {
  leftovers.push(dispose);
}

export async function disposeLeftovers(): Promise<void> {
  while (leftovers.length > 0) {
    const dispose = leftovers.pop() as () => Promise<unknown>;
    await Promise.resolve(dispose()).catch(() => {});
  }
}

export interface TestServer {
  app: App;
  url: string;
  wsUrl: string;
  config: Config;
}

export interface ServerOverrides extends Omit<AppOptions, 'config' | 'logger'> {
  env?: Record<string, string>;
  /** Where the server logs; silent unless TEST_LOG_LEVEL is set. */
  logger?: AppOptions['logger'];
  /** Stop it yourself (the SIGTERM tests); otherwise it is stopped after the test. */
  keep?: boolean;
}

/** A real server on a free port, over the run's database, stopped after the test. */
export async function startServer(overrides: ServerOverrides = {}): Promise<TestServer> {
  const config = loadConfig({
    DATABASE_URL: testDatabaseUrl(),
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    // Tests loop a few users as fast as they are answered; the work budget's own tests set it (an empty value: its default).
    QUERY_COST_RATE_LIMIT: '1000000000000/1',
    ...overrides.env,
  });
  const { env: _env, keep, logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), ...options } = overrides;
  const app = await createApp({ config, logger, reportStatements: true, ...options });
  if (!keep) onCleanup(() => app.stop());
  return { app, url: app.url, wsUrl: app.url.replace(/^http/, 'ws'), config };
}

/** A graphql-ws client over a real socket, closed after the test. */
export function wsClient(server: { wsUrl: string }, token: string | null, options: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    // Tests assert on closes and errors themselves; the default prints them.
    onNonLazyError: () => {},
    ...options,
  });
  onCleanup(() => client.dispose());
  return client;
}

/** The `n` a counting statement answers (`SELECT count(*)::int AS n ...`), read straight from the server's database. */
export async function countRows(server: TestServer, sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await server.app.db.query<{ n: number }>(sql, params);
  return row.n;
}
