import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import type { Message } from '../messages/message.table';
import { RateLimitedAction } from '../types';
import { requireLength } from '../validation';

export const REACTION_LENGTH = { min: 1, max: 32 };

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

  /** Idempotent (an add that was already there is not rate limited); active members only; not on deleted messages. */
  async addReaction(actor: Actor, messageId: string, reaction: string): Promise<Message> {
    const message = await this.reactable(actor, messageId, reaction);
    const existing = await this.repos.reactions.findByMessageUserReaction(message.id, actor.id, reaction);
    if (existing) return message;
    await this.limiter.admit(this.repos, actor, RateLimitedAction.REACTION, message.roomId);
    const { created } = await this.repos.reactions.addReaction(message.id, actor.id, reaction);
    if (created) this.events.publish({ kind: 'messageUpdated', roomId: message.roomId, messageId: message.id });
    return message;
  }

  /** Idempotent; removing a reaction that is not there changes nothing. */
  async removeReaction(actor: Actor, messageId: string, reaction: string): Promise<Message> {
    const message = await this.reactable(actor, messageId, reaction);
    await this.limiter.admit(this.repos, actor, RateLimitedAction.REACTION, message.roomId);
    if (await this.repos.reactions.removeReaction(message.id, actor.id, reaction)) {
      this.events.publish({ kind: 'messageUpdated', roomId: message.roomId, messageId: message.id });
    }
    return message;
  }

  private async reactable(actor: Actor, messageId: string, reaction: string): Promise<Message> {
    checkReaction(reaction);
    const { message } = await this.access.requireMessage(actor, messageId);
    if (message.isDeleted) throw new BadInputError('Deleted messages cannot be reacted to');
    return message;
  }
}
