import { expect } from 'chai';
import { WebSocket } from 'ws';
import { ok } from './support/client';
import { startServer } from './support/server';

const mint = (url: string, body: unknown) =>
  fetch(url.replace('/graphql', '/dev/token'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('development tokens (POST /dev/token)', () => {
  it('mints a working token for a development user when enabled', async () => {
    const server = await startServer({ env: { DEV_TOKENS: 'true' } });
    const res = await mint(server.url, { name: 'Dev Alice', companyId: '7d3e9f10-1111-4222-8333-944455556666' });
    expect(res.status).to.equal(200);
    const { token, userId } = (await res.json()) as { token: string; userId: string };
    const { me } = await ok(server.url, '{ me { id displayName companyId } }', {}, token);
    expect(me).to.deep.equal({ id: userId, displayName: 'Dev Alice', companyId: '7d3e9f10-1111-4222-8333-944455556666' });
  });

  it('refuses a malformed user id', async () => {
    const server = await startServer({ env: { DEV_TOKENS: 'true' } });
    expect((await mint(server.url, { userId: 'alice' })).status).to.equal(400);
  });

  it('is not served when a real JWT_SECRET is set without DEV_TOKENS', async () => {
    const server = await startServer();
    expect((await mint(server.url, {})).status).to.equal(404);
  });

  it('is never served in production, even with DEV_TOKENS=true', async () => {
    const server = await startServer({ env: { NODE_ENV: 'production', DEV_TOKENS: 'true' } });
    expect((await mint(server.url, {})).status).to.equal(404);
  });
});

describe('browser origins', () => {
  it('applies CORS_ORIGINS to /dev/token as to /graphql', async () => {
    const server = await startServer({ env: { DEV_TOKENS: 'true', CORS_ORIGINS: 'http://allowed.test' } });
    const preflight = (origin: string) =>
      fetch(server.url.replace('/graphql', '/dev/token'), {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    expect((await preflight('http://allowed.test')).headers.get('access-control-allow-origin')).to.equal('http://allowed.test');
    expect((await preflight('http://evil.test')).headers.get('access-control-allow-origin')).to.equal(null);
  });

  it('lets a page served by the API itself open a WebSocket, even when CORS_ORIGINS lists only others', async () => {
    const server = await startServer({ env: { CORS_ORIGINS: 'http://allowed.test' } });
    const handshake = (origin: string) =>
      new Promise<string>((resolve) => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { origin });
        socket.once('open', () => {
          socket.close();
          resolve('open');
        });
        socket.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
        socket.once('error', () => resolve('error'));
      });
    expect(await handshake(new URL(server.url).origin)).to.equal('open');
    expect(await handshake('http://evil.test')).to.equal('refused 401');
  });
});
