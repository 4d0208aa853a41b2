import { DEFAULT_SEND_BATCHING } from './chat/messages/send-batcher';
/** The only reader of process.env: typed, validated, with the defaults BEHAVIOUR.md gives. */
import type { ClaimNames, TokenSettings } from './auth/token';
import type { RateLimit } from './chat/limits/rate-limit.repository';
import type { RateLimits } from './chat/limits/rate-limiter';
import type { RedisTarget } from './realtime/redis-broker';
import type { S3Settings } from './storage/s3-store';

export type { RateLimit };

export interface Config {
  /** @default 4000 */
  port: number;
  /** Unset: an embedded PostgreSQL with its data under `./data` (never in production: required there). */
  databaseUrl: string | undefined;
  /** DATABASE_READ_URLS: streaming standbys of DATABASE_URL that pure reads may use. @default [] */
  databaseReadUrls: string[];
  /** DATABASE_READ_MAX_LAG_MS: a replica whose data is older than this is not read. @default 1000 */
  databaseReadMaxLagMs: number;
  /** REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster); unset: in-process pub/sub. */
  redis: RedisTarget | undefined;
  /**
   * PRESENCE_TTL_SECONDS (1-60): with Redis, how long the users of a server that stopped
   * beating (killed, cut off) still read online. @default 30
   * PRESENCE_INTERVAL_MS (10-60000): at most one presence event per user and server in this time. @default 1000
   */
  presence: { ttlMs: number; intervalMs: number };
  /**
   * SEND_BATCH_CONCURRENCY (0-64): plain sends go to the database in at most this many
   * statements at once; sends that arrive meanwhile go together, in one statement
   * (src/chat/messages/send-batcher.ts). 0: every send alone. @default 1
   */
  sendBatchConcurrency: number;
  /**
   * Which tokens are trusted: HS256 with JWT_SECRET, an identity provider's keys
   * (JWT_JWKS_URL), or both; JWT_ISSUER, JWT_AUDIENCE and JWT_CLAIM_* hold for every token.
   */
  tokens: TokenSettings;
  /** True when the development secret signs and checks HS256 tokens (neither JWT_SECRET nor JWT_JWKS_URL was given). */
  jwtSecretIsDefault: boolean;
  /** The key of change cursors: CURSOR_SECRET, else JWT_SECRET (else the development secret). */
  cursorSecret: string;
  production: boolean;
  /**
   * Per action: MESSAGE_RATE_LIMIT @default 20/10, REACTION_RATE_LIMIT @default 60/10,
   * EDIT_RATE_LIMIT @default 20/10 (per user and room); ROOM_RATE_LIMIT @default 10/60
   * (createGroupChat and createDirectChat, per user); MEMBER_RATE_LIMIT @default 30/60
   * (addMembers, per user and room); PIN_RATE_LIMIT @default 20/60 (pinMessage and
   * unpinMessage) and ROLE_RATE_LIMIT @default 20/60 (updateMemberRole), per user and room;
   * UPLOAD_RATE_LIMIT @default 20/60 (createUpload), per user across rooms;
   * MODERATION_RATE_LIMIT @default 30/60 (mute, unmute, ban, unban, setSlowMode), per user and room.
   */
  rateLimits: RateLimits;
  /**
   * QUERY_COST_RATE_LIMIT: the query cost one user may spend, per server, over
   * HTTP and WebSocket together (src/chat/limits/work-budget.ts). @default 600000/3
   */
  queryCostRateLimit: RateLimit;
  /** Unset: any origin outside production. */
  corsOrigins: string[] | undefined;
  /** @default info */
  logLevel: string;
  /** LOG_FORMAT: `pretty` (pino-pretty: readable times and levels) or `json`. @default pretty outside production, json in it */
  logFormat: LogFormat;
  /**
   * GET /metrics (Prometheus): served outside production, and in production only
   * with METRICS_TOKEN (then it needs `Authorization: Bearer <METRICS_TOKEN>`).
   * Nothing is counted when it is not served.
   */
  metrics: { enabled: boolean; token: string | undefined };
  /** OTEL_EXPORTER_OTLP_ENDPOINT: traces are exported there (OTLP over HTTP); unset: no tracing at all. */
  tracing: { endpoint: string; serviceName: string } | undefined;
  /** SUBGRAPH=1: HTTP serves the API as an Apollo Federation 2 subgraph (subscriptions stay on this service's WebSocket). */
  subgraph: boolean;
  /** Where the embedded PostgreSQL keeps its data. @default ./data */
  embeddedDataDir: string;
  /** The port the embedded PostgreSQL listens on (127.0.0.1), EMBEDDED_PG_PORT. @default 54329 */
  embeddedPort: number;
  /**
   * Serve POST /dev/token (mints tokens for development users). Never in
   * production; on by default only with the development secret, or DEV_TOKENS=true.
   */
  devTokens: boolean;
  /** A built web client to serve at `/` (the React example). */
  exampleDir: string | undefined;
  /**
   * Attachments: MAX_UPLOAD_BYTES @default 26214400; S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY,
   * S3_SECRET_KEY, S3_REGION (and S3_PUBLIC_ENDPOINT, the address clients reach it at) for
   * S3-compatible storage; unset: files on local disk under UPLOAD_DIR @default ./data/uploads,
   * served by this API at PUBLIC_URL @default http://localhost:<port>.
   */
  attachments: {
    maxBytes: number;
    s3: S3Settings | undefined;
    uploadDir: string;
    publicUrl: string | undefined;
  };
  /** WEBHOOK_URLS and WEBHOOK_SECRET (both or neither), with the delivery knobs; unset: no webhooks, no outbox rows. */
  webhooks: WebhookSettings | undefined;
}

/** Where events are POSTed and how hard delivery tries (src/webhooks/). */
export interface WebhookSettings {
  urls: string[];
  /** The HMAC key of X-Chat-Signature. */
  secret: string;
  /** WEBHOOK_RETRY_WINDOW_SECONDS: a failing event is retried this long after it happened, then kept as dead. @default 86400 */
  retryWindowSeconds: number;
  /** WEBHOOK_RETRY_DELAY_SECONDS: the first retry's delay; each next one doubles, up to an hour. @default 5 */
  retryDelaySeconds: number;
  /** WEBHOOK_TIMEOUT_MS: a receiver that has not answered by then failed the attempt. @default 5000 */
  timeoutMs: number;
  /** WEBHOOK_SUPERVISE_SECONDS: how often a delivery held by a server that died is looked for. @default 10 */
  superviseSeconds: number;
}

export type LogFormat = 'pretty' | 'json';

export const DEVELOPMENT_JWT_SECRET = 'development-secret-do-not-use-in-production';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseRateLimit(name: string, raw: string | undefined, fallback: RateLimit): RateLimit {
  if (raw === undefined || raw.trim() === '') return fallback;
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    throw new ConfigError(`${name} must look like <count>/<seconds> with both at least 1, e.g. 20/10; got "${raw}"`);
  }
  return { max: Number(match[1]), windowSeconds: Number(match[2]) };
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 4000;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`PORT must be an integer between 0 and 65535, got "${raw}"`);
  }
  return port;
}

function parseEmbeddedPort(raw: string | undefined): number {
  const value = nonEmpty(raw);
  if (value === undefined) return 54329;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new ConfigError(`EMBEDDED_PG_PORT must be an integer between 1 and 65535, got "${raw}"`);
  }
  return port;
}

/** RFC 7518: an HS256 key at least as long as its hash (256 bits); a shorter one is brute-forced offline from any token it signed. */
const PRODUCTION_SECRET_MIN_BYTES = 32;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseLogLevel(raw: string | undefined): string {
  const level = nonEmpty(raw)?.toLowerCase() ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}; got "${raw}"`);
  return level;
}

/** `host:port,host:port`: seed nodes of a Redis Cluster (ioredis finds the rest). */
function parseClusterNodes(raw: string): { host: string; port: number }[] {
  return raw.split(',').map((node) => {
    const match = /^\s*([^\s:]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\s*$/.exec(node);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new ConfigError(`REDIS_CLUSTER_NODES must be host:port pairs separated by commas; got "${raw}"`);
    }
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

function parseRedis(env: NodeJS.ProcessEnv): RedisTarget | undefined {
  const url = nonEmpty(env.REDIS_URL);
  const nodes = nonEmpty(env.REDIS_CLUSTER_NODES);
  if (url && nodes) throw new ConfigError('Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  if (nodes) return { nodes: parseClusterNodes(nodes) };
  return url ? { url } : undefined;
}

function parseFlag(name: string, raw: string | undefined): boolean {
  const value = nonEmpty(raw)?.toLowerCase();
  if (value === undefined || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new ConfigError(`${name} must be 1, true, 0 or false; got "${raw}"`);
}

function parseUrl(name: string, raw: string, { production }: { production: boolean }): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  if (production && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an https URL in production (keys fetched over plain HTTP can be swapped on the way), got "${raw}"`);
  }
  return url.href;
}

/** JWT_CLAIM_*: top-level claim names as written (Auth0's namespaced `https://...` and Cognito's `custom:...` included). */
function parseClaimNames(env: NodeJS.ProcessEnv): ClaimNames {
  const claim = (name: string, fallback: string) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (raw.trim() !== raw || /\s/.test(raw)) throw new ConfigError(`${name} must be a claim name without spaces, got "${raw}"`);
    return raw;
  };
  const names = {
    userId: claim('JWT_CLAIM_USER_ID', 'sub'),
    name: claim('JWT_CLAIM_NAME', 'name'),
    company: claim('JWT_CLAIM_COMPANY', 'company_id'),
  };
  if (new Set(Object.values(names)).size < 3) {
    throw new ConfigError(
      `JWT_CLAIM_USER_ID, JWT_CLAIM_NAME and JWT_CLAIM_COMPANY must name three different claims, got ${names.userId}, ${names.name}, ${names.company}`,
    );
  }
  return names;
}

function parseLogFormat(raw: string | undefined, production: boolean): LogFormat {
  const value = nonEmpty(raw)?.toLowerCase() ?? (production ? 'json' : 'pretty');
  if (value !== 'pretty' && value !== 'json') throw new ConfigError(`LOG_FORMAT must be pretty or json; got "${raw}"`);
  return value;
}

/** A URL as it may be shown: its password masked. */
function redacted(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');
}

/** DATABASE_READ_URLS: postgres:// URLs separated by commas, each a standby of DATABASE_URL. */
function parseReadUrls(raw: string | undefined, databaseUrl: string | undefined): string[] {
  const value = nonEmpty(raw);
  if (value === undefined) return [];
  const urls = value.split(',').map((u) => u.trim());
  urls.forEach((url, i) => {
    let valid = false;
    try {
      const parsed = new URL(url);
      valid = (parsed.protocol === 'postgres:' || parsed.protocol === 'postgresql:') && parsed.hostname !== '';
    } catch {
      valid = false;
    }
    if (!valid) {
      throw new ConfigError(`DATABASE_READ_URLS must be postgres://host:port/database URLs separated by commas; item ${i + 1} is "${redacted(url)}"`);
    }
  });
  if (databaseUrl === undefined) {
    throw new ConfigError('DATABASE_READ_URLS needs DATABASE_URL (the primary the replicas stream from); the embedded PostgreSQL has no replicas');
  }
  return urls;
}

function parseMaxLag(raw: string | undefined): number {
  const value = nonEmpty(raw);
  if (value === undefined) return 1_000;
  const ms = Number(value);
  if (!/^\d+$/.test(value) || ms < 1 || ms > 600_000) {
    throw new ConfigError(`DATABASE_READ_MAX_LAG_MS must be a whole number of milliseconds between 1 and 600000, got "${raw}"`);
  }
  return ms;
}

/** A whole number in [min, max] (seconds, milliseconds, bytes: the name says which), or `fallback` when unset. */
function parseWholeNumber(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  const value = nonEmpty(raw);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new ConfigError(`${name} must be a whole number between ${min} and ${max}, got "${raw}"`);
  return n;
}

function parseWebhooks(env: NodeJS.ProcessEnv): WebhookSettings | undefined {
  const urls = nonEmpty(env.WEBHOOK_URLS)
    ?.split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  const secret = nonEmpty(env.WEBHOOK_SECRET);
  if (!urls?.length && secret === undefined) return undefined;
  if (!urls?.length || secret === undefined) {
    throw new ConfigError('WEBHOOK_URLS and WEBHOOK_SECRET go together: set both (webhooks on) or neither (off)');
  }
  return {
    urls: urls.map((u, i) => parseUrl(`WEBHOOK_URLS item ${i + 1}`, u, { production: false })),
    secret,
    retryWindowSeconds: parseWholeNumber('WEBHOOK_RETRY_WINDOW_SECONDS', env.WEBHOOK_RETRY_WINDOW_SECONDS, 86_400, 1, 30 * 86_400),
    retryDelaySeconds: parseWholeNumber('WEBHOOK_RETRY_DELAY_SECONDS', env.WEBHOOK_RETRY_DELAY_SECONDS, 5, 1, 3_600),
    timeoutMs: parseWholeNumber('WEBHOOK_TIMEOUT_MS', env.WEBHOOK_TIMEOUT_MS, 5_000, 100, 60_000),
    superviseSeconds: parseWholeNumber('WEBHOOK_SUPERVISE_SECONDS', env.WEBHOOK_SUPERVISE_SECONDS, 10, 1, 3_600),
  };
}

function nonEmpty(raw: string | undefined): string | undefined {
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const databaseUrl = nonEmpty(env.DATABASE_URL);
  // The embedded PostgreSQL is a development convenience: production images do not even install it.
  if (production && !databaseUrl) throw new ConfigError('DATABASE_URL is required when NODE_ENV=production');
  const jwtSecret = nonEmpty(env.JWT_SECRET);
  const jwksUrlRaw = nonEmpty(env.JWT_JWKS_URL);
  const jwksUrl = jwksUrlRaw === undefined ? undefined : parseUrl('JWT_JWKS_URL', jwksUrlRaw, { production });
  if (production && !jwtSecret && !jwksUrl) {
    throw new ConfigError('JWT_SECRET (HS256 tokens) or JWT_JWKS_URL (an identity provider\'s keys) is required when NODE_ENV=production');
  }
  const secretBytes = jwtSecret === undefined ? 0 : Buffer.byteLength(jwtSecret, 'utf8');
  if (production && jwtSecret !== undefined && secretBytes < PRODUCTION_SECRET_MIN_BYTES) {
    throw new ConfigError(`JWT_SECRET must be at least ${PRODUCTION_SECRET_MIN_BYTES} bytes in production, got ${secretBytes}`);
  }
  const issuer = nonEmpty(env.JWT_ISSUER);
  // Every client of the same provider (realm, tenant, pool) gets tokens its keys verify: the issuer pins which provider.
  if (production && jwksUrl && !issuer) {
    throw new ConfigError('JWT_ISSUER is required with JWT_JWKS_URL in production (the iss of your identity provider\'s tokens)');
  }
  const audience = nonEmpty(env.JWT_AUDIENCE)
    ?.split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const cursorSecret = nonEmpty(env.CURSOR_SECRET) ?? jwtSecret;
  if (production && !cursorSecret) {
    throw new ConfigError('CURSOR_SECRET is required in production when JWT_SECRET is not set (it keys the change cursors clients resume from)');
  }
  const cursorBytes = cursorSecret === undefined ? 0 : Buffer.byteLength(cursorSecret, 'utf8');
  if (production && cursorBytes < PRODUCTION_SECRET_MIN_BYTES) {
    throw new ConfigError(`CURSOR_SECRET must be at least ${PRODUCTION_SECRET_MIN_BYTES} bytes in production, got ${cursorBytes}`);
  }
  // The development secret only when nothing else is trusted: a server set up for an identity provider accepts no development tokens.
  const secretIsDefault = !jwtSecret && !jwksUrl && !production;
  const secret = jwtSecret ?? (secretIsDefault ? DEVELOPMENT_JWT_SECRET : undefined);
  const metricsToken = nonEmpty(env.METRICS_TOKEN);
  const otlp = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const origins = nonEmpty(env.CORS_ORIGINS)
    ?.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return {
    port: parsePort(env.PORT),
    databaseUrl,
    databaseReadUrls: parseReadUrls(env.DATABASE_READ_URLS, databaseUrl),
    databaseReadMaxLagMs: parseMaxLag(env.DATABASE_READ_MAX_LAG_MS),
    redis: parseRedis(env),
    presence: {
      ttlMs: parseWholeNumber('PRESENCE_TTL_SECONDS', env.PRESENCE_TTL_SECONDS, 30, 1, 60) * 1000,
      intervalMs: parseWholeNumber('PRESENCE_INTERVAL_MS', env.PRESENCE_INTERVAL_MS, 1000, 10, 60_000),
    },
    sendBatchConcurrency: parseWholeNumber('SEND_BATCH_CONCURRENCY', env.SEND_BATCH_CONCURRENCY, DEFAULT_SEND_BATCHING.concurrency, 0, 64),
    tokens: { secret, jwksUrl, issuer, audience, claims: parseClaimNames(env), requireExpiry: production },
    jwtSecretIsDefault: secretIsDefault,
    cursorSecret: cursorSecret ?? DEVELOPMENT_JWT_SECRET,
    production,
    rateLimits: {
      MESSAGE: parseRateLimit('MESSAGE_RATE_LIMIT', env.MESSAGE_RATE_LIMIT, { max: 20, windowSeconds: 10 }),
      REACTION: parseRateLimit('REACTION_RATE_LIMIT', env.REACTION_RATE_LIMIT, { max: 60, windowSeconds: 10 }),
      EDIT: parseRateLimit('EDIT_RATE_LIMIT', env.EDIT_RATE_LIMIT, { max: 20, windowSeconds: 10 }),
      ROOM: parseRateLimit('ROOM_RATE_LIMIT', env.ROOM_RATE_LIMIT, { max: 10, windowSeconds: 60 }),
      MEMBERSHIP: parseRateLimit('MEMBER_RATE_LIMIT', env.MEMBER_RATE_LIMIT, { max: 30, windowSeconds: 60 }),
      PIN: parseRateLimit('PIN_RATE_LIMIT', env.PIN_RATE_LIMIT, { max: 20, windowSeconds: 60 }),
      ROLE: parseRateLimit('ROLE_RATE_LIMIT', env.ROLE_RATE_LIMIT, { max: 20, windowSeconds: 60 }),
      UPLOAD: parseRateLimit('UPLOAD_RATE_LIMIT', env.UPLOAD_RATE_LIMIT, { max: 20, windowSeconds: 60 }),
      MODERATION: parseRateLimit('MODERATION_RATE_LIMIT', env.MODERATION_RATE_LIMIT, { max: 30, windowSeconds: 60 }),
    },
    queryCostRateLimit: parseRateLimit('QUERY_COST_RATE_LIMIT', env.QUERY_COST_RATE_LIMIT, { max: 600_000, windowSeconds: 3 }),
    corsOrigins: origins,
    logLevel: parseLogLevel(env.LOG_LEVEL),
    logFormat: parseLogFormat(env.LOG_FORMAT, production),
    metrics: { enabled: !production || metricsToken !== undefined, token: metricsToken },
    tracing: otlp === undefined ? undefined : { endpoint: parseUrl('OTEL_EXPORTER_OTLP_ENDPOINT', otlp, { production: false }), serviceName: nonEmpty(env.OTEL_SERVICE_NAME) ?? 'chat-api' },
    subgraph: parseFlag('SUBGRAPH', env.SUBGRAPH),
    embeddedDataDir: nonEmpty(env.EMBEDDED_PG_DIR) ?? './data',
    embeddedPort: parseEmbeddedPort(env.EMBEDDED_PG_PORT),
    // Development tokens are HS256: only where HS256 tokens are trusted.
    devTokens: !production && secret !== undefined && (secretIsDefault || env.DEV_TOKENS === 'true'),
    exampleDir: nonEmpty(env.EXAMPLE_DIR),
    attachments: {
      maxBytes: parseWholeNumber('MAX_UPLOAD_BYTES', env.MAX_UPLOAD_BYTES, 25 * 1024 * 1024, 1, 2 ** 31 - 1),
      s3: parseS3(env),
      uploadDir: nonEmpty(env.UPLOAD_DIR) ?? './data/uploads',
      publicUrl: nonEmpty(env.PUBLIC_URL) === undefined ? undefined : parseUrl('PUBLIC_URL', nonEmpty(env.PUBLIC_URL) as string, { production: false }).replace(/\/$/, ''),
    },
    webhooks: parseWebhooks(env),
  };
}

/** The largest attachment: 1 byte to 2 GiB - 1 (the size is a GraphQL Int). */
/** S3_*: all of bucket and keys, or none (then the local disk keeps the files). */
function parseS3(env: NodeJS.ProcessEnv): S3Settings | undefined {
  const bucket = nonEmpty(env.S3_BUCKET);
  const accessKeyId = nonEmpty(env.S3_ACCESS_KEY);
  const secretAccessKey = nonEmpty(env.S3_SECRET_KEY);
  const endpoint = nonEmpty(env.S3_ENDPOINT);
  const publicEndpoint = nonEmpty(env.S3_PUBLIC_ENDPOINT);
  const given = { S3_BUCKET: bucket, S3_ACCESS_KEY: accessKeyId, S3_SECRET_KEY: secretAccessKey };
  const present = Object.entries(given).filter(([, v]) => v !== undefined);
  if (present.length === 0) {
    if (endpoint) throw new ConfigError('S3_ENDPOINT is set but S3_BUCKET, S3_ACCESS_KEY and S3_SECRET_KEY are not: set all of them, or none for local disk');
    return undefined;
  }
  if (present.length < 3) {
    const missing = Object.entries(given).filter(([, v]) => v === undefined).map(([k]) => k);
    throw new ConfigError(`S3 storage needs S3_BUCKET, S3_ACCESS_KEY and S3_SECRET_KEY; missing ${missing.join(', ')}`);
  }
  return {
    endpoint: endpoint === undefined ? undefined : parseUrl('S3_ENDPOINT', endpoint, { production: false }),
    publicEndpoint: publicEndpoint === undefined ? undefined : parseUrl('S3_PUBLIC_ENDPOINT', publicEndpoint, { production: false }),
    bucket: bucket as string,
    region: nonEmpty(env.S3_REGION) ?? 'us-east-1',
    accessKeyId: accessKeyId as string,
    secretAccessKey: secretAccessKey as string,
  };
}
