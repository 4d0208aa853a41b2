import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, ForbiddenError, roomNotFound, UnreachableCaseError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import { MemberRole, MessageType, RateLimitedAction } from '../types';
import { requireJsonObject, requireLength, requireNoNul, requireNotBlank, requireUuid } from '../validation';
import type { UserView } from '../users/user.table';
import type { Message } from './message.table';

export const CONTENT_LENGTH = { min: 1, max: 4000 };
export const METADATA_MAX_BYTES = 16 * 1024;
export const CLIENT_ID_LENGTH = { min: 1, max: 100 };

export interface SendMessageRequest {
  roomId: string;
  content: string;
  type: MessageType;
  metadata: unknown;
  clientId: string | null;
}

function checkContent(content: string, type: MessageType): string {
  requireLength('content', content, CONTENT_LENGTH.min, CONTENT_LENGTH.max);
  requireNoNul('content', content);
  if (type === MessageType.TEXT) requireNotBlank('content', content);
  return content;
}

/** A sent (or retried) message, with its sender's row when the statement brought it. */
export interface SentMessage {
  message: Message;
  sender: UserView | null;
}

export class MessageService {
  constructor(
    private readonly repos: ChatRepositories,
    private readonly access: Access,
    private readonly events: ChatEventPublisher,
    private readonly limiter: RateLimiter,
  ) {}

  /**
   * Stores a message with the room's next seq. A repeat of a clientId by the same
   * sender returns the first message unchanged (and is not rate limited: it adds
   * nothing), provided it names the first message's room, which the sender must
   * still see: a retry never shows anything of a room the caller cannot see.
   */
  async sendMessage(actor: Actor, request: SendMessageRequest): Promise<SentMessage> {
    const roomId = requireUuid('roomId', request.roomId);
    if (request.type === MessageType.SYSTEM) throw new BadInputError('Clients cannot send SYSTEM messages');
    const content = checkContent(request.content, request.type);
    const metadata =
      request.metadata === null || request.metadata === undefined
        ? null
        : requireJsonObject('metadata', request.metadata, METADATA_MAX_BYTES);
    const clientId =
      request.clientId === null
        ? null
        : requireNoNul('clientId', requireLength('clientId', request.clientId, CLIENT_ID_LENGTH.min, CLIENT_ID_LENGTH.max));

    const limit = this.limiter.limits[RateLimitedAction.MESSAGE];
    const outcome = await this.repos.messages.sendMessage(
      { roomId, senderId: actor.id, senderCompanyId: actor.companyId, type: request.type, content, metadata, clientId },
      limit,
    );
    switch (outcome.kind) {
      case 'sent':
        this.events.publish({ kind: 'messageAdded', roomId, messageId: outcome.message.id, seq: outcome.message.seq });
        return { message: outcome.message, sender: outcome.sender };
      case 'retry':
        if (outcome.first.roomId !== roomId) {
          throw new BadInputError(`clientId ${JSON.stringify(clientId)} was already used for a message in another room; use a new clientId`);
        }
        return { message: outcome.first, sender: outcome.sender ?? null };
      case 'hidden':
        throw roomNotFound();
      case 'limited':
        throw this.limiter.refusal(
          RateLimitedAction.MESSAGE,
          await this.repos.rateLimits.retryAfter(actor.id, roomId, RateLimitedAction.MESSAGE, limit),
        );
      default:
        throw new UnreachableCaseError(outcome);
    }
  }

  /** The sender only; not once deleted; never SYSTEM messages. */
  async editMessage(actor: Actor, messageId: string, content: string): Promise<Message> {
    const { message } = await this.access.requireMessage(actor, messageId);
    if (message.type === MessageType.SYSTEM) throw new BadInputError('SYSTEM messages cannot be edited');
    if (message.senderId !== actor.id) throw new ForbiddenError('Only the sender can edit a message');
    if (message.isDeleted) throw new BadInputError('A deleted message cannot be edited');
    checkContent(content, message.type);
    await this.limiter.admit(this.repos, actor, RateLimitedAction.EDIT, message.roomId);
    const edited = await this.repos.messages.editMessage(message.id, content);
    if (!edited) throw new BadInputError('A deleted message cannot be edited');
    this.events.publish({ kind: 'messageUpdated', roomId: edited.roomId, messageId: edited.id });
    return edited;
  }

  /** The sender, or the room's OWNER or ADMIN. Deleting twice is not an error. */
  async deleteMessage(actor: Actor, messageId: string): Promise<Message> {
    const { message, me } = await this.access.requireMessage(actor, messageId);
    const moderator = me.role === MemberRole.OWNER || me.role === MemberRole.ADMIN;
    if (message.senderId !== actor.id && !moderator) {
      throw new ForbiddenError('Only the sender or the room OWNER/ADMIN can delete a message');
    }
    if (message.isDeleted) return message;
    const deleted = (await this.repos.messages.deleteMessage(message.id)) as Message;
    this.events.publish({ kind: 'messageUpdated', roomId: deleted.roomId, messageId: deleted.id });
    return deleted;
  }
}
