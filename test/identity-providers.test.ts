import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { signToken } from '../src/auth/token';
import { gql, ok, type GraphQLResponse } from './support/client';
import { makeKey, TestIdentityProvider, type ProviderKey } from './support/jwks-server';
import { startServer, TEST_JWT_SECRET, type ServerOverrides, type TestServer } from './support/server';
import { closeCodeOf, sleep } from './support/ws';

const ME = '{ me { id displayName companyId } }';

/** A server that trusts `idp`'s keys (and no HS256 secret unless `env` gives one), with its issuer and audience. */
function trusting(idp: TestIdentityProvider, env: Record<string, string> = {}, overrides: ServerOverrides = {}): Promise<TestServer> {
  return startServer({
    ...overrides,
    env: { JWT_SECRET: '', JWT_JWKS_URL: idp.jwksUrl, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: 'chat-api', ...env },
  });
}

function refusedWith(res: GraphQLResponse, message: RegExp): void {
  expect(res.status, JSON.stringify(res.errors)).to.equal(401);
  expect(res.errors?.map((e) => e.extensions.code)).to.deep.equal(['UNAUTHENTICATED']);
  expect(res.errors?.[0].message).to.match(message);
  expect(res.data ?? null).to.equal(null);
}

describe('Identity providers: tokens signed with the keys of a JWKS (JWT_JWKS_URL)', () => {
  let rsa: ProviderKey;
  let ec: ProviderKey;

  before(async () => {
    rsa = await makeKey('RS256');
    ec = await makeKey('ES256');
  });

  it('accepts an RS256 and an ES256 token of the provider, with their claims', async () => {
    const idp = await TestIdentityProvider.start([rsa, ec]);
    const server = await trusting(idp);
    const company = randomUUID();
    for (const key of [rsa, ec]) {
      const sub = randomUUID();
      const token = await idp.sign(key, { sub, name: `Signed with ${key.alg}`, company_id: company });
      const data = await ok<{ me: unknown }>(server.url, ME, {}, token);
      expect(data.me, key.alg).to.deep.equal({ id: sub, displayName: `Signed with ${key.alg}`, companyId: company });
    }
    expect(idp.fetches, 'the key set is fetched once and cached').to.equal(1);
  });

  it('reads the user id, name and company from the claims JWT_CLAIM_* name', async () => {
    const idp = await TestIdentityProvider.start([rsa]);
    const server = await trusting(idp, {
      JWT_CLAIM_USER_ID: 'https://chat.test/user_id',
      JWT_CLAIM_NAME: 'preferred_username',
      JWT_CLAIM_COMPANY: 'custom:company_id',
    });
    const userId = randomUUID();
    const company = randomUUID();
    const token = await idp.sign(rsa, {
      sub: 'auth0|5f7c8ec7c33c6c004bbafe82',
      'https://chat.test/user_id': userId,
      preferred_username: 'ada',
      name: 'not this one',
      'custom:company_id': company,
    });
    expect((await ok<{ me: unknown }>(server.url, ME, {}, token)).me).to.deep.equal({ id: userId, displayName: 'ada', companyId: company });
    // The default claim is not read any more: a token with only `sub` has no user id.
    refusedWith(await gql(server.url, ME, {}, await idp.sign(rsa, { sub: randomUUID() })), /user id claim \(https:\/\/chat\.test\/user_id\) must be a UUID/);
  });

  it('refuses a wrong issuer, a wrong audience, an expired token, an unknown signature, HS256 and alg none', async () => {
    const idp = await TestIdentityProvider.start([rsa]);
    const server = await trusting(idp);
    refusedWith(await gql(server.url, ME, {}, await idp.sign(rsa, { iss: 'https://evil.test/' })), /issuer this service trusts \(iss\)/);
    refusedWith(await gql(server.url, ME, {}, await idp.sign(rsa, { aud: 'another-app' })), /not meant for this service \(aud\)/);
    refusedWith(await gql(server.url, ME, {}, await idp.sign(rsa, { exp: Math.floor(Date.now() / 1000) - 60 })), /expired/);
    // Signed by a key the provider never published, under a kid it does publish.
    const impostor = await makeKey('RS256', rsa.kid);
    refusedWith(await gql(server.url, ME, {}, await idp.sign(impostor)), /not valid/);
    // HS256 with the public key's bytes as the secret (key confusion), or with any secret: no HS256 path here.
    const hs = await signToken(JSON.stringify(rsa.jwk), { userId: randomUUID() }, { issuer: idp.issuer, audience: ['chat-api'] });
    refusedWith(await gql(server.url, ME, {}, hs), /HS256 tokens are not accepted here/);
    const [header, payload] = (await idp.sign(rsa)).split('.');
    const none = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header, 'base64url').toString()), alg: 'none' })).toString('base64url')}.${payload}.`;
    refusedWith(await gql(server.url, ME, {}, none), /not valid/);
  });

  it('accepts both the provider tokens and HS256 tokens of JWT_SECRET when both are set, each held to the issuer and audience', async () => {
    const idp = await TestIdentityProvider.start([ec]);
    const server = await trusting(idp, { JWT_SECRET: TEST_JWT_SECRET });
    await ok(server.url, ME, {}, await idp.sign(ec));
    const userId = randomUUID();
    const hs = await signToken(TEST_JWT_SECRET, { userId }, { issuer: idp.issuer, audience: ['chat-api'] });
    expect((await ok<{ me: { id: string } }>(server.url, ME, {}, hs)).me.id).to.equal(userId);
    refusedWith(await gql(server.url, ME, {}, await signToken(TEST_JWT_SECRET, { userId })), /issuer this service trusts/);
  });

  it('picks up a rotated key by fetching the set again for its unknown kid, at most once per cooldown', async () => {
    const idp = await TestIdentityProvider.start([rsa]);
    const server = await trusting(idp, {}, { jwks: { cooldownMs: 400 } });
    await ok(server.url, ME, {}, await idp.sign(rsa));
    expect(idp.fetches).to.equal(1);
    await sleep(450);

    // The provider rotates: a new key signs from now on, the old one is still served for tokens in flight.
    const next = await makeKey('ES256');
    idp.keys = [next, rsa];
    await ok(server.url, ME, {}, await idp.sign(next));
    expect(idp.fetches, 'one fetch for the unknown kid').to.equal(2);
    await ok(server.url, ME, {}, await idp.sign(next, { sub: randomUUID() }));
    await ok(server.url, ME, {}, await idp.sign(rsa, { sub: randomUUID() }));
    expect(idp.fetches, 'known kids fetch nothing').to.equal(2);

    // Another unknown kid right after: refused without a fetch (a flood of made-up kids cannot make the service hammer its provider).
    const stranger = await makeKey('RS256');
    for (let i = 0; i < 5; i += 1) refusedWith(await gql(server.url, ME, {}, await idp.sign(stranger)), /not valid/);
    expect(idp.fetches, 'no fetch within the cooldown').to.equal(2);
  });

  it('refuses, once its cached set has expired, a key the provider no longer serves', async () => {
    const idp = await TestIdentityProvider.start([rsa, ec]);
    const server = await trusting(idp, {}, { jwks: { cacheMaxAgeMs: 300 } });
    await ok(server.url, ME, {}, await idp.sign(rsa));
    idp.keys = [ec];
    await sleep(400);
    refusedWith(await gql(server.url, ME, {}, await idp.sign(rsa, { sub: randomUUID() })), /not valid/);
    expect(idp.fetches, 'the expired set was fetched again').to.equal(2);
    await ok(server.url, ME, {}, await idp.sign(ec));
  });

  it('while the provider is down: known keys still work; a token needing a key it never served is 503 (1013 on a socket), not 401', async () => {
    const idp = await TestIdentityProvider.start([rsa]);
    const server = await trusting(idp, {}, { jwks: { cacheMaxAgeMs: 200, cooldownMs: 500 } });
    await ok(server.url, ME, {}, await idp.sign(rsa));
    await idp.stop();
    await sleep(250); // the cached set is stale now: the next check tries the provider and finds it down

    const known = await gql(server.url, ME, {}, await idp.sign(rsa, { sub: randomUUID() }));
    expect(known.status, JSON.stringify(known.errors)).to.equal(200);

    const rotated = await makeKey('ES256');
    const unknown = await gql(server.url, ME, {}, await idp.sign(rotated));
    expect(unknown.status).to.equal(503);
    expect(unknown.headers.get('www-authenticate')).to.equal(null);
    expect(unknown.errors?.map((e) => e.extensions.code)).to.deep.equal(['INTERNAL_SERVER_ERROR']);
    expect(unknown.errors?.[0].message).to.match(/^Service temporarily unavailable: the identity provider cannot be reached; retry shortly \(ref [0-9a-f-]{36}\)$/);
    expect(JSON.stringify(unknown.errors), 'no address of the provider').not.to.include('127.0.0.1');
    expect(await closeCodeOf(server, `Bearer ${await idp.sign(rotated, { sub: randomUUID() })}`)).to.equal(1013);

    // Back, with the rotated key: once the cooldown after the failure has passed, it is fetched and accepted.
    idp.keys = [rotated, rsa];
    await idp.start();
    await sleep(550);
    await ok(server.url, ME, {}, await idp.sign(rotated, { sub: randomUUID() }));
  });

  it('answers 503 for every provider token while the provider was never reached, and fetches at most once per cooldown meanwhile', async () => {
    const idp = await TestIdentityProvider.start([rsa]);
    await idp.stop();
    const server = await trusting(idp, {}, { jwks: { cooldownMs: 60_000 } });
    for (let i = 0; i < 3; i += 1) {
      const res = await gql(server.url, ME, {}, await idp.sign(rsa, { sub: randomUUID() }));
      expect(res.status).to.equal(503);
    }
    await idp.start();
    const res = await gql(server.url, ME, {}, await idp.sign(rsa, { sub: randomUUID() }));
    expect(res.status, 'within the cooldown of the failed fetch: still 503, not a fetch per request').to.equal(503);
    expect(idp.fetches).to.equal(0);
  });
});
