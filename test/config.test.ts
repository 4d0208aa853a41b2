import { expect } from 'chai';
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from '../src/config';

/** A secret long enough for production (32 bytes or more). */
const PRODUCTION_SECRET = 'a-production-secret-of-at-least-32-bytes';
/** Production needs a database of its own (no embedded one there). */
const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://db/chat' };

describe('configuration', () => {
  it('uses the documented defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).to.deep.include({
      port: 4000,
      sendBatchConcurrency: 1,
      databaseUrl: undefined,
      redis: undefined,
      tokens: {
        secret: DEVELOPMENT_JWT_SECRET,
        jwksUrl: undefined,
        issuer: undefined,
        audience: undefined,
        claims: { userId: 'sub', name: 'name', company: 'company_id' },
        requireExpiry: false,
      },
      jwtSecretIsDefault: true,
      cursorSecret: DEVELOPMENT_JWT_SECRET,
      production: false,
      rateLimits: {
        MESSAGE: { max: 20, windowSeconds: 10 },
        REACTION: { max: 60, windowSeconds: 10 },
        EDIT: { max: 20, windowSeconds: 10 },
        ROOM: { max: 10, windowSeconds: 60 },
        MEMBERSHIP: { max: 30, windowSeconds: 60 },
        PIN: { max: 20, windowSeconds: 60 },
        ROLE: { max: 20, windowSeconds: 60 },
        UPLOAD: { max: 20, windowSeconds: 60 },
        MODERATION: { max: 30, windowSeconds: 60 },
      },
      corsOrigins: undefined,
      logLevel: 'info',
      logFormat: 'pretty',
      metrics: { enabled: true, token: undefined },
      tracing: undefined,
      subgraph: false,
      embeddedDataDir: './data',
      embeddedPort: 54329,
      devTokens: true,
      attachments: { maxBytes: 26214400, s3: undefined, uploadDir: './data/uploads', publicUrl: undefined },
    });
  });

  it('reads attachment storage: S3 when bucket and keys are all set, the local disk when none is, and refuses half a setup', () => {
    const s3 = { S3_ENDPOINT: 'http://minio:9000', S3_BUCKET: 'chat', S3_ACCESS_KEY: 'key', S3_SECRET_KEY: 'secret' };
    expect(loadConfig(s3).attachments.s3).to.deep.equal({
      endpoint: 'http://minio:9000/',
      publicEndpoint: undefined,
      bucket: 'chat',
      region: 'us-east-1',
      accessKeyId: 'key',
      secretAccessKey: 'secret',
    });
    expect(loadConfig({ ...s3, S3_REGION: 'eu-west-1', S3_PUBLIC_ENDPOINT: 'http://localhost:9000' }).attachments.s3).to.include({
      region: 'eu-west-1',
      publicEndpoint: 'http://localhost:9000/',
    });
    expect(loadConfig({ MAX_UPLOAD_BYTES: '1048576', PUBLIC_URL: 'https://chat.example.com/' }).attachments).to.include({ maxBytes: 1048576, publicUrl: 'https://chat.example.com' });
    expect(() => loadConfig({ S3_BUCKET: 'chat' })).to.throw(ConfigError, 'S3 storage needs S3_BUCKET, S3_ACCESS_KEY and S3_SECRET_KEY; missing S3_ACCESS_KEY, S3_SECRET_KEY');
    expect(() => loadConfig({ S3_ENDPOINT: 'http://minio:9000' })).to.throw(ConfigError, 'S3_ENDPOINT is set but');
    expect(() => loadConfig({ ...s3, S3_ENDPOINT: 'minio:9000' })).to.throw(ConfigError, 'S3_ENDPOINT must be an http(s) URL');
    for (const bad of ['0', '-1', '2147483648', '25MB', '1.5']) {
      expect(() => loadConfig({ MAX_UPLOAD_BYTES: bad }), bad).to.throw(ConfigError, 'MAX_UPLOAD_BYTES must be a whole number between 1 and 2147483647');
    }
  });

  it('reads REDIS_URL as one Redis and REDIS_CLUSTER_NODES as the seed nodes of a cluster, never both', () => {
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redis).to.deep.equal({ url: 'redis://cache:6379' });
    expect(loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7001, redis-b:7002,[::1]:7003' }).redis).to.deep.equal({
      nodes: [
        { host: '10.0.0.1', port: 7001 },
        { host: 'redis-b', port: 7002 },
        { host: '::1', port: 7003 },
      ],
    });
    expect(() => loadConfig({ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7001' })).to.throw(ConfigError, /REDIS_URL.*REDIS_CLUSTER_NODES.*not both/);
    for (const bad of ['b', 'b:', 'b:0', 'b:70000', 'b:7001,,c:7002']) {
      expect(() => loadConfig({ REDIS_CLUSTER_NODES: bad }), bad).to.throw(ConfigError, /REDIS_CLUSTER_NODES/);
    }
  });

  it('reads rate limits as <count>/<seconds> and origins as a comma list', () => {
    const config = loadConfig({
      MESSAGE_RATE_LIMIT: '5/60',
      REACTION_RATE_LIMIT: ' 7 / 3 ',
      EDIT_RATE_LIMIT: '2/5',
      ROOM_RATE_LIMIT: '3/30',
      MEMBER_RATE_LIMIT: '4/40',
      PIN_RATE_LIMIT: '6/11',
      ROLE_RATE_LIMIT: '8/12',
      UPLOAD_RATE_LIMIT: '9/13',
      MODERATION_RATE_LIMIT: '9/13',
      CORS_ORIGINS: 'http://a.test, http://b.test',
    });
    expect(config.rateLimits).to.deep.equal({
      MESSAGE: { max: 5, windowSeconds: 60 },
      REACTION: { max: 7, windowSeconds: 3 },
      EDIT: { max: 2, windowSeconds: 5 },
      ROOM: { max: 3, windowSeconds: 30 },
      MEMBERSHIP: { max: 4, windowSeconds: 40 },
      PIN: { max: 6, windowSeconds: 11 },
      ROLE: { max: 8, windowSeconds: 12 },
      UPLOAD: { max: 9, windowSeconds: 13 },
      MODERATION: { max: 9, windowSeconds: 13 },
    });
    expect(config.corsOrigins).to.deep.equal(['http://a.test', 'http://b.test']);
  });

  for (const [name, env, message] of [
    ['a production server without JWT_SECRET or JWT_JWKS_URL', PRODUCTION, 'JWT_SECRET (HS256 tokens) or JWT_JWKS_URL'],
    ['a production server without DATABASE_URL', { NODE_ENV: 'production', JWT_SECRET: PRODUCTION_SECRET }, 'DATABASE_URL is required when NODE_ENV=production'],
    ['a malformed rate limit', { MESSAGE_RATE_LIMIT: 'twenty' }, 'MESSAGE_RATE_LIMIT must look like'],
    ['a zero rate limit', { REACTION_RATE_LIMIT: '0/10' }, 'REACTION_RATE_LIMIT must look like'],
    ['a malformed edit limit', { EDIT_RATE_LIMIT: '5' }, 'EDIT_RATE_LIMIT must look like'],
    ['a malformed room limit', { ROOM_RATE_LIMIT: '1/0' }, 'ROOM_RATE_LIMIT must look like'],
    ['a malformed member limit', { MEMBER_RATE_LIMIT: 'x/1' }, 'MEMBER_RATE_LIMIT must look like'],
    ['a port out of range', { PORT: '70000' }, 'PORT must be an integer'],
    ['an embedded PostgreSQL port that is not a port', { EMBEDDED_PG_PORT: '0' }, 'EMBEDDED_PG_PORT must be an integer between 1 and 65535, got "0"'],
    ['a short JWT_SECRET in production', { ...PRODUCTION, JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 bytes in production, got 5'],
    ['a JWKS URL that is not a URL', { JWT_JWKS_URL: 'keys.example.com' }, 'JWT_JWKS_URL must be an http(s) URL, got "keys.example.com"'],
    ['a JWKS URL over plain HTTP in production', { ...PRODUCTION, JWT_JWKS_URL: 'http://idp/keys', JWT_ISSUER: 'http://idp' }, 'JWT_JWKS_URL must be an https URL in production'],
    ['a JWKS URL without JWT_ISSUER in production', { ...PRODUCTION, JWT_JWKS_URL: 'https://idp/keys', CURSOR_SECRET: PRODUCTION_SECRET }, 'JWT_ISSUER is required with JWT_JWKS_URL in production'],
    ['only a JWKS URL in production, and no CURSOR_SECRET', { ...PRODUCTION, JWT_JWKS_URL: 'https://idp/keys', JWT_ISSUER: 'https://idp/' }, 'CURSOR_SECRET is required in production when JWT_SECRET is not set'],
    ['a short CURSOR_SECRET in production', { ...PRODUCTION, JWT_SECRET: PRODUCTION_SECRET, CURSOR_SECRET: 'short' }, 'CURSOR_SECRET must be at least 32 bytes in production, got 5'],
    ['a claim name with a space', { JWT_CLAIM_NAME: 'given name' }, 'JWT_CLAIM_NAME must be a claim name without spaces, got "given name"'],
    ['one claim for two things', { JWT_CLAIM_COMPANY: 'sub' }, 'must name three different claims, got sub, name, sub'],
    ['a SUBGRAPH flag that is no flag', { SUBGRAPH: 'yes' }, 'SUBGRAPH must be 1, true, 0 or false; got "yes"'],
    ['an unknown log format', { LOG_FORMAT: 'xml' }, 'LOG_FORMAT must be pretty or json; got "xml"'],
    ['an OTLP endpoint that is not a URL', { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL'],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    ['webhook URLs without a secret', { WEBHOOK_URLS: 'https://hooks.example.com/chat' }, 'WEBHOOK_URLS and WEBHOOK_SECRET go together'],
    ['a webhook secret without URLs', { WEBHOOK_SECRET: 'shh' }, 'WEBHOOK_URLS and WEBHOOK_SECRET go together'],
    ['a webhook URL that is not a URL', { WEBHOOK_URLS: 'https://a.example.com, hooks.example.com', WEBHOOK_SECRET: 'shh' }, 'WEBHOOK_URLS item 2 must be an http(s) URL, got "hooks.example.com"'],
    ['a retry window of no time', { WEBHOOK_URLS: 'https://a.example.com', WEBHOOK_SECRET: 'shh', WEBHOOK_RETRY_WINDOW_SECONDS: '0' }, 'WEBHOOK_RETRY_WINDOW_SECONDS must be a whole number between 1 and 2592000, got "0"'],
    ['more send statements at once than the bound', { SEND_BATCH_CONCURRENCY: '65' }, 'SEND_BATCH_CONCURRENCY must be a whole number between 0 and 64, got "65"'],
    ['send statements at once that are no number', { SEND_BATCH_CONCURRENCY: 'many' }, 'SEND_BATCH_CONCURRENCY must be a whole number between 0 and 64, got "many"'],
  ] as const) {
    it(`refuses ${name} with a message that names the setting`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('reads webhooks: off without WEBHOOK_URLS, else the URLs, the secret and the retry window of BEHAVIOUR.md (24 h, 5 s timeout)', () => {
    expect(loadConfig({}).webhooks).to.equal(undefined);
    expect(loadConfig({ WEBHOOK_URLS: 'https://a.example.com/hooks, http://10.0.0.7:4100/push', WEBHOOK_SECRET: 'shh' }).webhooks).to.deep.equal({
      urls: ['https://a.example.com/hooks', 'http://10.0.0.7:4100/push'],
      secret: 'shh',
      retryWindowSeconds: 86_400,
      retryDelaySeconds: 5,
      timeoutMs: 5_000,
      superviseSeconds: 10,
    });
  });

  it('never serves development tokens in production', () => {
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: PRODUCTION_SECRET, DEV_TOKENS: 'true' }).devTokens).to.equal(false);
  });

  it('trusts an identity provider (JWT_JWKS_URL) with its issuer, audiences and claim names, and no development secret beside it', () => {
    const config = loadConfig({
      JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json',
      JWT_ISSUER: 'https://idp.example.com/',
      JWT_AUDIENCE: 'chat-api, chat-web',
      JWT_CLAIM_USER_ID: 'https://chat.example.com/user_id',
      JWT_CLAIM_NAME: 'preferred_username',
      JWT_CLAIM_COMPANY: 'custom:company_id',
    });
    expect(config.tokens).to.deep.equal({
      secret: undefined,
      jwksUrl: 'https://idp.example.com/.well-known/jwks.json',
      issuer: 'https://idp.example.com/',
      audience: ['chat-api', 'chat-web'],
      claims: { userId: 'https://chat.example.com/user_id', name: 'preferred_username', company: 'custom:company_id' },
      requireExpiry: false,
    });
    expect(config.jwtSecretIsDefault).to.equal(false);
    expect(config.devTokens, 'development tokens are HS256: none without a secret').to.equal(false);
    // Both may be set: HS256 tokens (npm run token) beside the provider's.
    const both = loadConfig({ ...PRODUCTION, JWT_SECRET: PRODUCTION_SECRET, JWT_JWKS_URL: 'https://idp/keys', JWT_ISSUER: 'https://idp/' });
    expect(both.tokens.secret).to.equal(PRODUCTION_SECRET);
    expect(both.tokens.requireExpiry).to.equal(true);
    expect(both.cursorSecret, 'cursors keep their key when a provider is added').to.equal(PRODUCTION_SECRET);
    const providerOnly = loadConfig({ ...PRODUCTION, JWT_JWKS_URL: 'https://idp/keys', JWT_ISSUER: 'https://idp/', CURSOR_SECRET: 'c'.repeat(32) });
    expect(providerOnly.tokens.secret).to.equal(undefined);
    expect(providerOnly.cursorSecret).to.equal('c'.repeat(32));
  });

  it('serves /metrics outside production, and in production only with METRICS_TOKEN; reads the tracing, subgraph and log settings', () => {
    expect(loadConfig({}).metrics).to.deep.equal({ enabled: true, token: undefined });
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: PRODUCTION_SECRET }).metrics).to.deep.equal({ enabled: false, token: undefined });
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: PRODUCTION_SECRET, METRICS_TOKEN: 'scrape' }).metrics).to.deep.equal({ enabled: true, token: 'scrape' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing).to.deep.equal({ endpoint: 'http://collector:4318/', serviceName: 'chat-api' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SERVICE_NAME: 'chat-eu' }).tracing?.serviceName).to.equal('chat-eu');
    expect(loadConfig({ SUBGRAPH: '1' }).subgraph).to.equal(true);
    expect(loadConfig({ SUBGRAPH: 'false' }).subgraph).to.equal(false);
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: PRODUCTION_SECRET }).logFormat).to.equal('json');
    expect(loadConfig({ LOG_FORMAT: 'JSON' }).logFormat).to.equal('json');
  });

  it('accepts a production JWT_SECRET of 32 bytes (counted in UTF-8, not characters) and reads EMBEDDED_PG_PORT', () => {
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: 'x'.repeat(32) }).tokens.secret).to.equal('x'.repeat(32));
    // 16 characters of two bytes each: 32 bytes of key.
    expect(loadConfig({ ...PRODUCTION, JWT_SECRET: 'é'.repeat(16) }).production).to.equal(true);
    expect(() => loadConfig({ ...PRODUCTION, JWT_SECRET: 'x'.repeat(31) })).to.throw(ConfigError, 'got 31');
    // Outside production a short secret is still a development convenience.
    expect(loadConfig({ JWT_SECRET: 'short' }).tokens.secret).to.equal('short');
    expect(loadConfig({ EMBEDDED_PG_PORT: '55432' }).embeddedPort).to.equal(55432);
    for (const bad of ['65536', '-1', 'five', '5432.5']) {
      expect(() => loadConfig({ EMBEDDED_PG_PORT: bad }), bad).to.throw(ConfigError, 'EMBEDDED_PG_PORT');
    }
  });
});
