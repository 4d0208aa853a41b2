// First: the collector's settings apply to what the modules below allocate.
import './v8-flags';
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { Authenticator } from './auth/authenticator';
import { mintDevelopmentToken } from './auth/dev-tokens';
import type { JwksOptions } from './auth/jwks';
import { TokenVerifier } from './auth/token';
import { createRepositories, type ChatRepositories } from './chat/chat-repositories';
import { DEFAULT_SEND_BATCHING } from './chat/messages/send-batcher';
import type { UserRepository } from './chat/users/user.repository';
import { createServices, type ChatServices } from './chat/chat-services';
import type { Config } from './config';
import type { Database } from './db/database';
import { databaseReachable, openDatabase } from './db/data-source';
import type { ReadReplicas } from './db/read-replicas';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './db/embedded-postgres';
import { createErrorFormatter } from './graphql/format-error';
import { DEFAULT_QUERY_LIMITS, type QueryLimits } from './graphql/protection';
import { WorkBudget } from './chat/limits/work-budget';
import { buildChatSchema } from './graphql/schema';
import { buildChatSubgraphSchema } from './graphql/subgraph';
import type { Logger } from './logger';
import { ChatStreams } from './realtime/chat-streams';
import { EventBus } from './realtime/event-bus';
import { InProcessBroker } from './realtime/broker';
import { RedisPresenceDirectory } from './realtime/presence-directory';
import { redisBroker } from './realtime/redis-broker';
import { NO_METRICS, PrometheusMetrics, type Metrics } from './telemetry/metrics';
import { createHttpApp } from './transport/http';
import type { RequestTracer } from './transport/request-observer';
import type { TransportOptions } from './transport/transport-options';
import { attachWebSocketServer } from './transport/websocket';
import { WebhookWorker } from './webhooks/webhook-worker';
import { webhookRepository } from './webhooks/webhook.repository';
import { DEFAULT_ATTACHMENT_SETTINGS, type AttachmentSettings } from './chat/attachments/attachment.service';
import type { AttachmentStore } from './chat/attachments/attachment-store';
import { LocalStore } from './storage/local-store';
import { S3Store } from './storage/s3-store';

export interface AppOptions {
  config: Config;
  logger: Logger;
  /** Query limits. @default DEFAULT_QUERY_LIMITS */
  limits?: Partial<QueryLimits>;
  /** Adds `extensions.sqlStatements` to HTTP responses (tests). @default false */
  reportStatements?: boolean;
  /** Per-socket and per-user WebSocket limits (tests lower them). */
  maxSubscriptionsPerSocket?: number;
  maxSocketsPerUser?: number;
  /** WebSocket keep-alive: ping interval, a peer that does not answer in time is dropped. @default 12000 */
  keepAliveMs?: number;
  /** How the identity provider's keys are cached (tests shorten the times). @default see JwksOptions */
  jwks?: JwksOptions;
  /** A span per HTTP request: src/index.ts gives one when tracing was started (OTEL_EXPORTER_OTLP_ENDPOINT). */
  tracer?: RequestTracer;
  /** How long upload and download URLs work, and unsent uploads are kept (tests shorten them). @default DEFAULT_ATTACHMENT_SETTINGS */
  attachments?: Partial<Omit<AttachmentSettings, 'maxBytes'>>;
}

/** Counters the tests and benchmarks read. */
export interface AppStats {
  /** Executions of subscription events (one may serve many sockets). */
  subscriptionExecutions: number;
}

export interface App {
  url: string;
  port: number;
  httpServer: Server;
  dataSource: DataSource;
  /** Statements on the pool (tests read and seed through it). */
  db: Database;
  repos: ChatRepositories;
  stats: AppStats;
  services: ChatServices;
  bus: EventBus;
  /** What /metrics serves (NO_METRICS when it is not served); the webhook worker reports to it. */
  metrics: Metrics;
  /** Delivers the outbox when WEBHOOK_URLS is set (src/webhooks/); null otherwise. */
  webhooks: WebhookWorker | null;
  /** Stop accepting, drain HTTP and WebSocket, close Redis and the database, in that order. */
  stop(): Promise<void>;
}

/**
 * The users repository, but writing a token's claims (on a user's first request
 * to this server, or when their claims change) is that user's write: with read
 * replicas, their reads wait for a replica that has replayed it.
 */
function claimsWriteFence(users: UserRepository, replicas: ReadReplicas): UserRepository {
  const fenced = Object.create(users) as UserRepository;
  fenced.upsertFromClaims = async (id, displayName, companyId) => {
    const row = await users.upsertFromClaims(id, displayName, companyId);
    replicas.wrote(id);
    return row;
  };
  return fenced;
}

/** The composition root: data source, repositories, services, schema, Apollo, graphql-ws. */
export async function createApp({ config, logger, ...options }: AppOptions): Promise<App> {
  let embedded: EmbeddedDatabase | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    logger.info({ dataDir: config.embeddedDataDir, port: config.embeddedPort }, 'DATABASE_URL is not set: starting an embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ dataDir: config.embeddedDataDir, port: config.embeddedPort, warn: (line) => logger.warn(line) });
    databaseUrl = embedded.url;
  }
  if (config.jwtSecretIsDefault) {
    logger.warn('JWT_SECRET is not set: using the development secret; never do this in production');
  }
  if (config.tokens.jwksUrl && !config.tokens.audience) {
    logger.warn({ jwksUrl: config.tokens.jwksUrl }, "JWT_AUDIENCE is not set: tokens the identity provider issued for any of its clients are accepted");
  }

  const { dataSource, db } = await openDatabase({
    url: databaseUrl,
    onQueryError: (error) => logger.debug({ message: error.message }, 'statement failed'),
    onPoolError: (error) => logger.warn({ err: error }, 'database connection lost; the pool will reconnect'),
    countStatements: options.reportStatements,
    readUrls: config.databaseReadUrls,
    maxReadLagMs: config.databaseReadMaxLagMs,
    onReplicaChange: (status) =>
      status.inUse ? logger.info({ replica: status }, 'read replica in use') : logger.warn({ replica: status }, 'read replica not in use: its reads go to the primary'),
    webhooks: config.webhooks !== undefined,
  });
  const { replicas } = db;

  const { redis } = config;
  const bus = new EventBus((deliver) => (redis ? redisBroker(redis, deliver, logger) : new InProcessBroker(deliver)));

  const repos = createRepositories(db, { sendBatching: { ...DEFAULT_SEND_BATCHING, concurrency: config.sendBatchConcurrency } });
  // Attachments' bytes: S3 when S3_* is set, else this API's disk (its URLs need the port, known once listening).
  let publicUrl = config.attachments.publicUrl;
  if (!config.attachments.s3 && !publicUrl && config.production) {
    logger.warn('Attachments are kept on local disk and their URLs name http://localhost:<PORT>: set PUBLIC_URL (or S3_*) in production');
  }
  const localStore = config.attachments.s3
    ? null
    : new LocalStore({ dir: config.attachments.uploadDir, secret: config.cursorSecret, baseUrl: () => publicUrl as string });
  const store: AttachmentStore = localStore ?? new S3Store(config.attachments.s3 as NonNullable<typeof config.attachments.s3>);
  // A store not reachable yet (MinIO starting beside the API) is prepared again by the sweep below.
  const prepareStore = () =>
    store.prepare().then(
      () => true,
      (error) => (logger.warn({ err: error, store: store.kind }, 'attachment store not ready: uploads fail until it is'), false),
    );
  let storeReady = await prepareStore();
  const attachmentSettings = { ...DEFAULT_ATTACHMENT_SETTINGS, ...options.attachments, maxBytes: config.attachments.maxBytes };
  const services = createServices(
    repos,
    bus,
    config.rateLimits,
    config.cursorSecret,
    { store, settings: attachmentSettings },
    {
      directory: redis ? new RedisPresenceDirectory(redis, logger, config.presence.ttlMs) : undefined,
      intervalMs: config.presence.intervalMs,
      onError: (error, what) => logger.warn({ err: error }, what),
    },
  );
  const streams = new ChatStreams(repos, services.access, bus, services.changes.cursors);
  const authenticator = new Authenticator(new TokenVerifier(config.tokens, options.jwks), replicas ? claimsWriteFence(repos.users, replicas) : repos.users);
  const schema = buildChatSchema();
  const formatError = createErrorFormatter({ logger, production: config.production });
  const limits = { ...DEFAULT_QUERY_LIMITS, ...options.limits };
  let metrics: Metrics = NO_METRICS;
  if (config.metrics.enabled) {
    const prometheus = new PrometheusMetrics();
    prometheus.watchPool(db.pool, db.poolSize);
    prometheus.watchEvents(bus.stats);
    prometheus.watchSendBatches(repos.messages.sendBatches);
    metrics = prometheus;
  }
  const sources = { services, streams, repos };
  const stats: AppStats = { subscriptionExecutions: 0 };

  // A checked key keeps only its window's times; this sweeps the keys nobody checks any more.
  const sweeper = setInterval(() => {
    repos.rateLimits
      .sweepIdleKeys(services.limiter.longestWindowSeconds)
      .catch((error) => logger.warn({ err: error }, 'rate-limit log sweep failed'));
  }, 60_000);
  sweeper.unref();
  // Files of deleted messages (when the store was away at the deletion) and uploads never sent.
  const fileSweeper = setInterval(async () => {
    storeReady ||= await prepareStore();
    if (storeReady) await services.attachments.sweep().catch((error) => logger.warn({ err: error }, 'attachment sweep failed'));
  }, 60_000);
  fileSweeper.unref();

  const { secret } = config.tokens;
  const httpServer = createServer();
  const transports: TransportOptions = {
    schema,
    httpServer,
    authenticator,
    sources,
    formatError,
    limits,
    production: config.production,
    corsOrigins: config.corsOrigins,
    logger,
    metrics,
    workBudget: new WorkBudget(config.queryCostRateLimit),
  };
  const ws = attachWebSocketServer({
    ...transports,
    maxSubscriptionsPerSocket: options.maxSubscriptionsPerSocket,
    maxSocketsPerUser: options.maxSocketsPerUser,
    keepAliveMs: options.keepAliveMs,
    onExecution: () => (stats.subscriptionExecutions += 1),
    onWrite: replicas ? (userId) => replicas.wrote(userId) : undefined,
  });
  const { apollo, listener } = await createHttpApp({
    ...transports,
    // SUBGRAPH=1: HTTP serves the Federation subgraph (same resolvers, plus _service and _entities); sockets keep the API's own schema.
    schema: config.subgraph ? buildChatSubgraphSchema() : schema,
    reportStatements: options.reportStatements,
    devTokens: config.devTokens && secret !== undefined ? (claims) => mintDevelopmentToken(secret, claims, config.tokens) : undefined,
    exampleDir: config.exampleDir,
    metricsToken: config.metrics.token,
    tracer: options.tracer,
    ready: async () => {
      const checks: Record<string, boolean> = { database: await databaseReachable(db) };
      if (bus.broker.ping) checks.redis = await bus.broker.ping();
      return checks;
    },
    // A replica out of use leaves the server ready: its reads go to the primary.
    readyDetails: replicas ? () => ({ replicas: replicas.status() }) : undefined,
    replicas: replicas ?? undefined,
    localFiles: localStore
      ? { store: localStore, servable: (id) => services.attachments.servable(id), uploadable: (id) => services.attachments.uploadable(id) }
      : undefined,
    plugins: [
      {
        async serverWillStart() {
          return { drainServer: () => ws.close() };
        },
      },
    ],
  });
  httpServer.on('request', listener);

  const webhooks = config.webhooks
    ? new WebhookWorker({
        settings: config.webhooks,
        databaseUrl,
        db,
        repo: webhookRepository(dataSource, db),
        logger,
        metrics,
        // Online on any server, not only the one delivering: the push goes to members with no socket anywhere.
        online: (userIds) => services.presence.online(userIds),
      })
    : null;
  await webhooks?.start();

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, resolve);
  });
  const port = (httpServer.address() as AddressInfo).port;
  publicUrl ??= `http://localhost:${port}`;

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      // apollo.stop() stops accepting, lets in-flight requests finish and drains the WebSocket server.
      clearInterval(sweeper);
      clearInterval(fileSweeper);
      services.typing.close();
      services.members.close();
      await apollo.stop();
      // After the sockets closed (their users' last presence written), before Redis and the database go.
      await services.presence.close();
      // After the last request: what it wrote is in the outbox, for this server or another to deliver.
      await webhooks?.stop();
      await bus.close();
      store.close();
      await dataSource.destroy();
      await replicas?.close();
      if (embedded) await embedded.stop();
    })());

  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    httpServer,
    dataSource,
    db,
    repos,
    stats,
    services,
    bus,
    metrics,
    webhooks,
    stop,
  };
}
