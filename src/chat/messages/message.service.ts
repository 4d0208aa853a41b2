import type { RateLimit } from '../../config';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, ForbiddenError, messageNotFound } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { MemberService } from '../members/member.service';
import { MemberRole, MessageType } from '../types';
import {
  requireJsonObject,
  requireLength,
  requireNoNul,
  requireNotBlank,
  requireUuid,
} from '../validation';
import type { Member } from '../members/member.entity';
import type { Message } from './message.entity';

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

export class MessageService {
  constructor(
    private readonly repos: ChatRepositories,
    private readonly members: MemberService,
    private readonly events: ChatEventPublisher,
    private readonly rateLimit: RateLimit,
  ) {}

  /**
   * Stores a message with the room's next seq. A repeat of a clientId by the same
   * sender returns the first message unchanged (and is not rate limited: it adds nothing).
   */
  async sendMessage(actor: Actor, request: SendMessageRequest): Promise<Message> {
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

    await this.members.requireActiveMember(actor, roomId);
    if (clientId !== null) {
      const first = await this.repos.messages.findBySenderAndClientId(actor.id, clientId);
      if (first) return first;
    }
    const { message, created } = await this.repos.messages.sendMessage(
      { roomId, senderId: actor.id, type: request.type, content, metadata, clientId },
      this.rateLimit,
    );
    if (created) this.events.publish({ kind: 'messageAdded', roomId, messageId: message.id, seq: message.seq });
    return message;
  }

  /** The sender only; not once deleted; never SYSTEM messages. */
  async editMessage(actor: Actor, messageId: string, content: string): Promise<Message> {
    const { message } = await this.requireVisibleMessage(actor, messageId);
    if (message.type === MessageType.SYSTEM) throw new BadInputError('SYSTEM messages cannot be edited');
    if (message.senderId !== actor.id) throw new ForbiddenError('Only the sender can edit a message');
    if (message.isDeleted) throw new BadInputError('A deleted message cannot be edited');
    checkContent(content, message.type);
    const edited = await this.repos.messages.editMessage(message.id, content, actor.id);
    if (!edited) throw new BadInputError('A deleted message cannot be edited');
    this.events.publish({ kind: 'messageUpdated', roomId: edited.roomId, messageId: edited.id });
    return edited;
  }

  /** The sender, or the room's OWNER or ADMIN. Deleting twice is not an error. */
  async deleteMessage(actor: Actor, messageId: string): Promise<Message> {
    const { message, me } = await this.requireVisibleMessage(actor, messageId);
    const moderator = me.role === MemberRole.OWNER || me.role === MemberRole.ADMIN;
    if (message.senderId !== actor.id && !moderator) {
      throw new ForbiddenError('Only the sender or the room OWNER/ADMIN can delete a message');
    }
    if (message.isDeleted) return message;
    const deleted = (await this.repos.messages.deleteMessage(message.id, actor.id)) as Message;
    this.events.publish({ kind: 'messageUpdated', roomId: deleted.roomId, messageId: deleted.id });
    return deleted;
  }

  /** A message in a room where the actor is an active member; NOT_FOUND otherwise. */
  async requireVisibleMessage(actor: Actor, messageId: string): Promise<{ message: Message; me: Member }> {
    const id = requireUuid('id', messageId);
    const message = await this.repos.messages.findById(id);
    if (!message) throw messageNotFound();
    const me = await this.repos.members.findByRoomAndUser(message.roomId, actor.id);
    if (!me?.isActive) throw messageNotFound();
    return { message, me };
  }
}
