import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, messageNotFound, UnreachableCaseError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import type { Message } from '../messages/message.entity';
import { RateLimitedAction } from '../types';
import { Permission } from '../access/permissions';
import { requireLength } from '../validation';

export const REACTION_LENGTH = { min: 1, max: 32 };
/** Distinct reactions one message may hold: what `Message.reactions` lists at most. */
export const MAX_REACTIONS_PER_MESSAGE = 20;

function checkReaction(reaction: string): string {
  requireLength('reaction', reaction, REACTION_LENGTH.min, REACTION_LENGTH.max);
  // \s covers Unicode spaces; the control range covers NUL and other invisible breakers.
  if (/[\s\u0000-\u001f\u007f]/u.test(reaction)) {
    throw new BadInputError('reaction must not contain whitespace or control characters');
  }
  return reaction;
}

export class ReactionService {
  constructor(
    private readonly repos: ChatRepositories,
    private readonly access: Access,
    private readonly events: ChatEventPublisher,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * Idempotent (an add that was already there changes nothing and is not rate
   * limited); active members only; not on deleted messages; at most
   * MAX_REACTIONS_PER_MESSAGE distinct reactions per message. Returns the
   * message as it is after the change, with its new version.
   */
  async addReaction(actor: Actor, messageId: string, reaction: string): Promise<Message> {
    const message = await this.reactable(actor, messageId, reaction);
    const limit = this.limiter.limits[RateLimitedAction.REACTION];
    const outcome = await this.repos.transaction(async (tx) => {
      // The message's lock first: the add's statement then counts every distinct reaction committed before it.
      const state = await tx.reactions.lockForReaction(message.id);
      if (!state) throw messageNotFound();
      if (state.deleted) throw new BadInputError('Deleted messages cannot be reacted to');
      // Still a member who may react, as of now (a ban or mute committed meanwhile refuses).
      await this.access.hold(actor, Permission.React, message.roomId, tx);
      return tx.reactions.addReaction(message.id, message.roomId, actor.id, reaction, MAX_REACTIONS_PER_MESSAGE, limit);
    });
    switch (outcome.kind) {
      case 'added':
        this.events.publish({ kind: 'messageUpdated', roomId: outcome.message.roomId, messageId: outcome.message.id });
        return outcome.message;
      case 'given':
        return message;
      case 'full':
        throw new BadInputError(`A message holds at most ${MAX_REACTIONS_PER_MESSAGE} different reactions; react with one it has`);
      case 'limited':
        throw this.limiter.refusal(
          RateLimitedAction.REACTION,
          await this.repos.rateLimits.retryAfter(actor.id, message.roomId, RateLimitedAction.REACTION, limit),
        );
      default:
        throw new UnreachableCaseError(outcome);
    }
  }

  /** Idempotent; removing a reaction that is not there changes nothing. Returns the message as it is after. */
  async removeReaction(actor: Actor, messageId: string, reaction: string): Promise<Message> {
    const message = await this.reactable(actor, messageId, reaction);
    const removed = await this.repos.transaction(async (tx) => {
      // The message's lock before the membership's (message rows, then rooms, then memberships).
      await tx.reactions.lockForReaction(message.id);
      await this.access.hold(actor, Permission.React, message.roomId, tx);
      await this.limiter.admit(tx, actor, RateLimitedAction.REACTION, message.roomId);
      return tx.reactions.removeReaction(message.id, actor.id, reaction);
    });
    if (!removed) return message;
    this.events.publish({ kind: 'messageUpdated', roomId: removed.roomId, messageId: removed.id });
    return removed;
  }

  private async reactable(actor: Actor, messageId: string, reaction: string): Promise<Message> {
    checkReaction(reaction);
    const { message, me, roomType } = await this.access.requireMessage(actor, messageId);
    this.access.check(roomType, me, Permission.React);
    if (message.isDeleted) throw new BadInputError('Deleted messages cannot be reacted to');
    return message;
  }
}
