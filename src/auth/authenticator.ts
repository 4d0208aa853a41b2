import type { Actor } from '../chat/actor';
import { UnauthenticatedError } from '../chat/errors';
import type { UserRepository } from '../chat/users/user.repository';
import { extractBearer, verifyToken, type VerifiedToken } from './token';

export interface Authenticated {
  actor: Actor;
  expiresAt: Date | null;
}

/** How many users' last-seen claims are remembered, to skip the upsert on repeat requests. */
const SEEN_CLAIMS_LIMIT = 10_000;

/**
 * Turns an Authorization value into the acting user, keeping the `users` row in
 * step with the token's claims. Claims already written are remembered, so a
 * user's requests after the first cost no statement here.
 */
export class Authenticator {
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly secret: string,
    private readonly users: UserRepository,
  ) {}

  /** Null when no token was given; throws UnauthenticatedError for a bad one. */
  async authenticate(authorization: unknown): Promise<Authenticated | null> {
    const token = extractBearer(authorization);
    if (token === null) return null;
    const verified = await verifyToken(this.secret, token);
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
    if (this.seen.size >= SEEN_CLAIMS_LIMIT) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(token.userId, fingerprint);
  }
}
