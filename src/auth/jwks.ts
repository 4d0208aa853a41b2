import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { ServiceUnavailableError } from '../chat/errors';

export interface JwksOptions {
  /** How long fetched keys are used before the set is fetched again (a key the provider dropped is refused after it). @default 600000 */
  cacheMaxAgeMs?: number;
  /**
   * At most one fetch per this long for keys the set does not hold (an unknown `kid`,
   * as after a rotation), and none for this long after a failed fetch. @default 60000
   */
  cooldownMs?: number;
  /** A fetch that takes longer fails. @default 5000 */
  timeoutMs?: number;
}

/** Errors of choosing a key from a set that was fetched: the token's fault, not the provider's. */
const KEY_SELECTION_ERRORS = [joseErrors.JWKSNoMatchingKey, joseErrors.JWKSMultipleMatchingKeys, joseErrors.JOSENotSupported, joseErrors.JWKInvalid];

/**
 * An identity provider's signing keys (JWT_JWKS_URL), fetched and cached by
 * jose's remote JWK set: a token whose `kid` the cached set lacks (a rotated
 * key) fetches the set again, at most once per cooldown. When the provider
 * cannot be reached, the keys it served last keep verifying (a provider outage
 * must not sign every user out), and a token needing a key they do not hold
 * is a ServiceUnavailableError: it may be good, the service cannot tell yet.
 */
export class IdentityProviderKeys {
  private readonly remote: ReturnType<typeof createRemoteJWKSet>;
  private readonly cooldownMs: number;
  /** When the last fetch failed; none is tried again within a cooldown of it. */
  private failedAt = Number.NEGATIVE_INFINITY;
  private lastKnown: { set: JSONWebKeySet; keys: JWTVerifyGetKey } | null = null;

  constructor(
    readonly url: URL,
    options: JwksOptions = {},
  ) {
    this.cooldownMs = options.cooldownMs ?? 60_000;
    this.remote = createRemoteJWKSet(url, {
      cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
      cooldownDuration: this.cooldownMs,
      timeoutDuration: options.timeoutMs ?? 5_000,
      [customFetch]: (input: string, init: RequestInit) => this.fetch(input, init),
    });
  }

  /** jose's key lookup for `jwtVerify`. */
  readonly key: JWTVerifyGetKey = async (header, token) => {
    try {
      return await this.remote(header, token);
    } catch (error) {
      if (KEY_SELECTION_ERRORS.some((kind) => error instanceof kind)) throw error;
      // The set could not be fetched (down, timed out, not a key set): the keys served last still hold.
      this.failedAt = Date.now();
      const keys = this.lastKnownKeys();
      if (keys) {
        try {
          return await keys(header, token);
        } catch (lookup) {
          if (!(lookup instanceof joseErrors.JWKSNoMatchingKey)) throw lookup;
        }
      }
      throw new ServiceUnavailableError(
        'the identity provider',
        `The identity provider's keys (JWT_JWKS_URL ${this.url.href}) cannot be fetched, and the token needs a key not fetched before: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };

  /** The last set fetched, as a local set (rebuilt only when a new set arrived). */
  private lastKnownKeys(): JWTVerifyGetKey | null {
    const set = this.remote.jwks();
    if (!set) return null;
    if (this.lastKnown?.set !== set) this.lastKnown = { set, keys: createLocalJWKSet(set) };
    return this.lastKnown.keys;
  }

  /** jose's fetch, failing at once within a cooldown of a failed one: an outage costs each request nothing. */
  private async fetch(input: string, init: RequestInit): Promise<Response> {
    if (Date.now() < this.failedAt + this.cooldownMs) {
      throw new Error(`the last fetch failed less than ${Math.round(this.cooldownMs / 1000)} s ago`);
    }
    try {
      const response = await fetch(input, init);
      this.failedAt = response.status === 200 ? Number.NEGATIVE_INFINITY : Date.now();
      return response;
    } catch (error) {
      this.failedAt = Date.now();
      throw error;
    }
  }
}
