import { LRUCache } from 'lru-cache';
import type { Actor } from '../chat/actor';
import { UnauthenticatedError } from '../chat/errors';
import type { UserRepository } from '../chat/users/user.repository';
import { extractBearer, type TokenVerifier, type VerifiedToken } from './token';

export interface Authenticated {
  actor: Actor;
  expiresAt: Date | null;
}

/** How many users' last-seen claims are remembered, to skip the upsert on repeat requests. */
const SEEN_CLAIMS_LIMIT = 10_000;
/** How long claims written stay remembered: a user's row is rewritten at most this often per server. */
const SEEN_CLAIMS_TTL_MS = 10 * 60_000;
/** How many verified tokens are remembered (keyed by the whole token), to skip the signature check on repeat requests. */
const VERIFIED_TOKENS_LIMIT = 10_000;

/**
 * Turns an Authorization value into the acting user, keeping the `users` row in
 * step with the token's claims. A verified token is remembered until its `exp`
 * (the signature of the same bytes cannot change), and claims already written
 * are remembered too, so a user's requests after the first cost neither a
 * signature check nor a statement here.
 */
export class Authenticator {
  private readonly seen = new LRUCache<string, string>({ max: SEEN_CLAIMS_LIMIT, ttl: SEEN_CLAIMS_TTL_MS });
  /** Verified tokens until their `exp` (each entry's own ttl), or the LRU's limit. */
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: VERIFIED_TOKENS_LIMIT });

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly users: UserRepository,
  ) {}

  /**
   * Null when no token was given; throws UnauthenticatedError for a bad one, and
   * ServiceUnavailableError when the identity provider's keys cannot be fetched
   * for it (the transports answer 503 / close 1013: the token may be good).
   */
  async authenticate(authorization: unknown): Promise<Authenticated | null> {
    const token = extractBearer(authorization);
    if (token === null) return null;
    let verified = this.verified.get(token);
    if (verified?.expiresAt && verified.expiresAt.getTime() <= Date.now()) {
      this.verified.delete(token);
      throw new UnauthenticatedError('The token has expired');
    }
    if (!verified) {
      verified = await this.verifier.verify(token);
      this.verified.set(token, verified, verified.expiresAt ? { ttl: Math.max(1, verified.expiresAt.getTime() - Date.now()) } : undefined);
    }
    await this.remember(verified);
    return {
      actor: { id: verified.userId, displayName: verified.displayName, companyId: verified.companyId },
      expiresAt: verified.expiresAt,
    };
  }

  async require(authorization: unknown): Promise<Authenticated> {
    const auth = await this.authenticate(authorization);
    if (!auth) throw new UnauthenticatedError('Authentication required: send Authorization: Bearer <token>');
    return auth;
  }

  private async remember(token: VerifiedToken): Promise<void> {
    const fingerprint = `${token.displayName ?? ''}\u0000${token.companyId ?? ''}`;
    if (this.seen.get(token.userId) === fingerprint) return;
    await this.users.upsertFromClaims(token.userId, token.displayName, token.companyId);
    this.seen.set(token.userId, fingerprint);
  }
}
