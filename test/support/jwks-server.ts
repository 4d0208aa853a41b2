import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { onCleanup } from './server';

/** A signing key of a test identity provider: its private half signs, its public half is served. */
export interface ProviderKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(alg: 'RS256' | 'ES256', kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<ProviderKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/**
 * An identity provider on loopback: serves a JSON Web Key Set at /jwks.json
 * (the keys it is given, replaceable: a rotation), counts the fetches, and can
 * be stopped and started again on the same port (an outage). Stopped after the test.
 */
export class TestIdentityProvider {
  readonly issuer: string;
  keys: ProviderKey[];
  fetches = 0;
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(keys: ProviderKey[]) {
    this.keys = keys;
    this.issuer = 'https://idp.test/realms/chat';
    this.server = this.makeServer();
  }

  static async start(keys: ProviderKey[]): Promise<TestIdentityProvider> {
    const idp = new TestIdentityProvider(keys);
    await idp.listen();
    onCleanup(() => idp.stop());
    return idp;
  }

  get jwksUrl(): string {
    return `http://127.0.0.1:${this.port}/jwks.json`;
  }

  /** A token signed with `key`, with this provider's issuer, `aud` chat-api and an hour to live, unless `claims` say otherwise. */
  sign(key: ProviderKey, claims: JWTPayload & { sub?: string } = {}, header: { kid?: string | null } = {}): Promise<string> {
    const kid = header.kid === undefined ? key.kid : header.kid;
    return new SignJWT({ iss: this.issuer, aud: 'chat-api', ...claims })
      .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...(kid !== null && { kid }) })
      .setSubject(claims.sub ?? randomUUID())
      .setIssuedAt()
      .setExpirationTime(typeof claims.exp === 'number' ? claims.exp : '1h')
      .sign(key.privateKey);
  }

  /** Refuses connections until `start` (the port stays this provider's). */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  async start(): Promise<void> {
    if (this.server.listening) return;
    this.server = this.makeServer();
    await this.listen();
  }

  private makeServer(): Server {
    const server = createServer((req, res) => {
      if (req.url !== '/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      this.fetches += 1;
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }
}
