import type { Actor } from '../actor';
import type { Repositories } from '../chat-repositories';
import { RateLimitedError, UnreachableCaseError } from '../errors';
import { RateLimitedAction } from '../types';
import { NO_SCOPE, type RateLimit } from './rate-limit.repository';
import { SLOW_MODE_SECONDS } from './slow-mode';

/** The limit of each rate-limited action (Config: MESSAGE_RATE_LIMIT, REACTION_RATE_LIMIT, ...). */
export type RateLimits = Record<RateLimitedAction, RateLimit>;

function noun(action: RateLimitedAction): string {
  switch (action) {
    case RateLimitedAction.MESSAGE:
      return 'messages';
    case RateLimitedAction.REACTION:
      return 'reaction changes';
    case RateLimitedAction.EDIT:
      return 'edits';
    case RateLimitedAction.ROOM:
      return 'room creations';
    case RateLimitedAction.MEMBERSHIP:
      return 'member additions';
    case RateLimitedAction.PIN:
      return 'pin changes';
    case RateLimitedAction.ROLE:
      return 'role changes';
    case RateLimitedAction.UPLOAD:
      return 'uploads';
    case RateLimitedAction.MODERATION:
      return 'moderation actions';
    default:
      throw new UnreachableCaseError(action);
  }
}

/** The rule: how many of each action a user may do per window, and the refusal when they are over. */
export class RateLimiter {
  constructor(readonly limits: RateLimits) {}

  /** Admits one `action` of the actor in `roomId` (or outside any room), or throws RATE_LIMITED with retryAfter. */
  async admit(repos: Repositories, actor: Actor, action: RateLimitedAction, roomId: string | null): Promise<void> {
    const limit = this.limits[action];
    const admission = await repos.rateLimits.checkRateLimit(actor.id, roomId ?? NO_SCOPE, action, limit);
    if (!admission.admitted) throw this.refusal(action, admission.retryAfter);
  }

  refusal(action: RateLimitedAction, retryAfter: number): RateLimitedError {
    const limit = this.limits[action];
    return new RateLimitedError(
      `Rate limit of ${limit.max} ${noun(action)} per ${limit.windowSeconds}s reached; retry in ${retryAfter}s`,
      retryAfter,
    );
  }

  /** The refusal of a send within a room's slow mode. */
  slowModeRefusal(seconds: number, retryAfter: number): RateLimitedError {
    return new RateLimitedError(`Slow mode: one message per ${seconds}s in this room; retry in ${retryAfter}s`, retryAfter);
  }

  /** The longest window (a room's slow mode included): log rows older than this are of no use to anyone. */
  get longestWindowSeconds(): number {
    return Math.max(SLOW_MODE_SECONDS.max, ...Object.values(this.limits).map((l) => l.windowSeconds));
  }
}
