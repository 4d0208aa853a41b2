import { expect } from 'chai';
import { ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig } from '../src/config';

/** A secret long enough for production (32 bytes or more). */
const PRODUCTION_SECRET = 'a-production-secret-of-at-least-32-bytes';

describe('configuration', () => {
  it('uses the documented defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).to.deep.include({
      port: 4000,
      databaseUrl: undefined,
      redis: undefined,
      jwtSecret: DEVELOPMENT_JWT_SECRET,
      jwtSecretIsDefault: true,
      production: false,
      rateLimits: {
        MESSAGE: { max: 20, windowSeconds: 10 },
        REACTION: { max: 60, windowSeconds: 10 },
        EDIT: { max: 20, windowSeconds: 10 },
        ROOM: { max: 10, windowSeconds: 60 },
        MEMBERSHIP: { max: 30, windowSeconds: 60 },
        PIN: { max: 20, windowSeconds: 60 },
        ROLE: { max: 20, windowSeconds: 60 },
      },
      corsOrigins: undefined,
      logLevel: 'info',
      embeddedDataDir: './data',
      embeddedPort: 54329,
      devTokens: true,
    });
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
    });
    expect(config.corsOrigins).to.deep.equal(['http://a.test', 'http://b.test']);
  });

  for (const [name, env, message] of [
    ['a production server without JWT_SECRET', { NODE_ENV: 'production' }, 'JWT_SECRET is required'],
    ['a malformed rate limit', { MESSAGE_RATE_LIMIT: 'twenty' }, 'MESSAGE_RATE_LIMIT must look like'],
    ['a zero rate limit', { REACTION_RATE_LIMIT: '0/10' }, 'REACTION_RATE_LIMIT must look like'],
    ['a malformed edit limit', { EDIT_RATE_LIMIT: '5' }, 'EDIT_RATE_LIMIT must look like'],
    ['a malformed room limit', { ROOM_RATE_LIMIT: '1/0' }, 'ROOM_RATE_LIMIT must look like'],
    ['a malformed member limit', { MEMBER_RATE_LIMIT: 'x/1' }, 'MEMBER_RATE_LIMIT must look like'],
    ['a port out of range', { PORT: '70000' }, 'PORT must be an integer'],
    ['an embedded PostgreSQL port that is not a port', { EMBEDDED_PG_PORT: '0' }, 'EMBEDDED_PG_PORT must be an integer between 1 and 65535, got "0"'],
    ['a short JWT_SECRET in production', { NODE_ENV: 'production', JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 bytes in production, got 5'],
    ['an unknown log level', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
  ] as const) {
    it(`refuses ${name} with a message that names the setting`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('never serves development tokens in production', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: PRODUCTION_SECRET, DEV_TOKENS: 'true' }).devTokens).to.equal(false);
  });

  it('accepts a production JWT_SECRET of 32 bytes (counted in UTF-8, not characters) and reads EMBEDDED_PG_PORT', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) }).jwtSecret).to.equal('x'.repeat(32));
    // 16 characters of two bytes each: 32 bytes of key.
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'é'.repeat(16) }).production).to.equal(true);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(31) })).to.throw(ConfigError, 'got 31');
    // Outside production a short secret is still a development convenience.
    expect(loadConfig({ JWT_SECRET: 'short' }).jwtSecret).to.equal('short');
    expect(loadConfig({ EMBEDDED_PG_PORT: '55432' }).embeddedPort).to.equal(55432);
    for (const bad of ['65536', '-1', 'five', '5432.5']) {
      expect(() => loadConfig({ EMBEDDED_PG_PORT: bad }), bad).to.throw(ConfigError, 'EMBEDDED_PG_PORT');
    }
  });
});
