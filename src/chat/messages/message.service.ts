import type { Access } from '../access/access';
import type { AttachmentService } from '../attachments/attachment.service';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, ForbiddenError, messageNotFound, MutedError, roomNotFound, UnreachableCaseError } from '../errors';
import type { ChatEventPublisher } from '../events';
import type { RateLimiter } from '../limits/rate-limiter';
import { MessageType, RateLimitedAction } from '../types';
import { mutedAt, Permission } from '../access/permissions';
import { SLOW_MODE_ACTION } from '../limits/slow-mode';
import { requireJsonObject, requireLength, requireNoNul, requireNotBlank, requireUuid, requireUuids } from '../validation';
import type { UserView } from '../users/user.entity';
import type { Message } from './message.entity';

export const CONTENT_LENGTH = { min: 1, max: 4000 };
export const METADATA_MAX_BYTES = 16 * 1024;
export const CLIENT_ID_LENGTH = { min: 1, max: 100 };
/** Distinct users one message may mention. */
export const MAX_MENTIONS = 50;
/** Pins a room holds at most. */
export const MAX_PINS = 50;

export interface SendMessageRequest {
  roomId: string;
  content: string;
  type: MessageType;
  metadata: unknown;
  clientId: string | null;
  /** Reply in the thread of this message. */
  parentId?: string | null;
  /** With parentId: also show the reply in the room's history. */
  alsoInRoom?: boolean;
  /** Users to mention, active members of the room. */
  mentionIds?: string[] | null;
  /** Uploads (createUpload) of the sender's for this room, 1-10. */
  attachmentIds?: string[] | null;
}

/** At most 50 distinct, well-formed user ids, in the order first given. */
function distinctMentions(ids: string[]): string[] {
  const distinct = [...new Set(requireUuids('mentionIds', ids, 500))];
  if (distinct.length > MAX_MENTIONS) throw new BadInputError(`mentionIds may name at most ${MAX_MENTIONS} users, got ${distinct.length}`);
  return distinct;
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
    private readonly attachments: AttachmentService,
  ) {}

  /**
   * Stores a message with the room's next seq. A repeat of a clientId by the same
   * sender returns the first message unchanged (and is not rate limited: it adds
   * nothing), provided it names the first message's room, which the sender must
   * still see: a retry never shows anything of a room the caller cannot see.
   * A muted sender is refused (FORBIDDEN with mutedUntil), except that a retry
   * of a message stored before the mute still returns it (nothing new is said);
   * slow mode refuses a second message within the room's seconds (RATE_LIMITED).
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

    const parentId = request.parentId == null ? null : requireUuid('parentId', request.parentId);
    const mentionIds = request.mentionIds == null ? [] : distinctMentions(request.mentionIds);
    const attaching = request.attachmentIds != null && request.attachmentIds.length > 0;
    if (parentId !== null || mentionIds.length > 0 || attaching) {
      // Only replies, mentions and files pay for this check first (a room the caller cannot see is NOT_FOUND whatever
      // else the input names); the send statement checks the room again.
      await this.access.requireRoom(actor, roomId);
      if (parentId !== null) await this.requireThreadRoot(actor, roomId, parentId);
      await this.requireMentionable(roomId, mentionIds);
    }
    // Asks the store what arrived (and reads images' sizes) before the statement, which claims them under lock.
    const attachmentIds = request.attachmentIds == null ? [] : await this.attachments.requireSendable(actor, roomId, request.attachmentIds, request.type, clientId !== null);

    const limit = this.limiter.limits[RateLimitedAction.MESSAGE];
    const outcome = await this.repos.messages.sendMessage(
      {
        roomId,
        senderId: actor.id,
        senderCompanyId: actor.companyId,
        type: request.type,
        content,
        metadata,
        clientId,
        parentId,
        alsoInRoom: parentId !== null && request.alsoInRoom === true,
        mentionIds,
        attachmentIds,
      },
      limit,
    );
    switch (outcome.kind) {
      case 'sent':
        this.events.publish({ kind: 'messageAdded', roomId, messageId: outcome.message.id, seq: outcome.message.seq });
        if (outcome.rootId) this.events.publish({ kind: 'messageUpdated', roomId, messageId: outcome.rootId });
        return { message: outcome.message, sender: outcome.sender };
      case 'parent-gone':
        throw new BadInputError('parentId names a message that was deleted meanwhile: a reply needs a live thread root');
      case 'attachments-gone':
        throw new BadInputError('attachmentIds names an upload that another message took meanwhile; upload the file again');
      case 'retry':
        if (outcome.first.roomId !== roomId) {
          throw new BadInputError(`clientId ${JSON.stringify(clientId)} was already used for a message in another room; use a new clientId`);
        }
        return { message: outcome.first, sender: outcome.sender ?? null };
      case 'hidden':
        throw roomNotFound();
      case 'forbidden': {
        const mutedUntil = mutedAt(outcome);
        throw mutedUntil === null ? new ForbiddenError('You cannot send messages in this room') : new MutedError(mutedUntil);
      }
      case 'slowed':
        throw this.limiter.slowModeRefusal(
          outcome.seconds,
          await this.repos.rateLimits.retryAfter(actor.id, roomId, SLOW_MODE_ACTION, { max: 1, windowSeconds: outcome.seconds }),
        );
      case 'limited':
        throw this.limiter.refusal(
          RateLimitedAction.MESSAGE,
          await this.repos.rateLimits.retryAfter(actor.id, roomId, RateLimitedAction.MESSAGE, limit),
        );
      default:
        throw new UnreachableCaseError(outcome);
    }
  }

  /**
   * The sender only; not once deleted; never SYSTEM messages. The replaced
   * content is kept (Message.edits). With `mentionIds` the mentions are
   * replaced; without, they are kept.
   */
  async editMessage(actor: Actor, messageId: string, content: string, mentionIds: string[] | null = null): Promise<Message> {
    const { message, me, roomType } = await this.access.requireMessage(actor, messageId);
    if (message.type === MessageType.SYSTEM) throw new BadInputError('SYSTEM messages cannot be edited');
    if (message.senderId !== actor.id) throw new ForbiddenError('Only the sender can edit a message');
    this.access.check(roomType, me, Permission.EditOwnMessage);
    if (message.isDeleted) throw new BadInputError('A deleted message cannot be edited');
    checkContent(content, message.type);
    const mentions = mentionIds === null ? null : distinctMentions(mentionIds);
    if (mentions) await this.requireMentionable(message.roomId, mentions);
    const edited = await this.repos.transaction(async (tx) => {
      // The message's lock before the membership's (message rows, then rooms, then memberships).
      await tx.messages.lockForEdit(message.id);
      await this.access.hold(actor, Permission.EditOwnMessage, message.roomId, tx);
      await this.limiter.admit(tx, actor, RateLimitedAction.EDIT, message.roomId);
      return tx.messages.editMessage(message.id, content, mentions);
    });
    if (!edited) throw new BadInputError('A deleted message cannot be edited');
    this.events.publish({ kind: 'messageUpdated', roomId: edited.roomId, messageId: edited.id });
    return edited;
  }

  /** The sender (DeleteOwnMessage), or a member who may delete others' (DeleteOthersMessage). Deleting twice is not an error. */
  async deleteMessage(actor: Actor, messageId: string): Promise<Message> {
    const { message, me, roomType } = await this.access.requireMessage(actor, messageId);
    this.access.check(roomType, me, message.senderId === actor.id ? Permission.DeleteOwnMessage : Permission.DeleteOthersMessage);
    if (message.isDeleted) return message;
    const { message: deleted, rootId, files } = (await this.repos.transaction(async (tx) => {
      await tx.messages.lockForDelete(message.id);
      // From this commit on, its files get no URL and the API serves none of them.
      const discarded = await tx.attachments.discardOfMessage(message.id);
      return { ...(await tx.messages.deleteMessage(message.id)), files: discarded };
    })) as { message: Message; rootId: string | null; files: string[] };
    // Then the bytes go (a message without files asks the store nothing); if the store is away, the sweep removes them later.
    await this.attachments.removeFiles(files).catch(() => {});
    this.events.publish({ kind: 'messageUpdated', roomId: deleted.roomId, messageId: deleted.id });
    if (rootId) this.events.publish({ kind: 'messageUpdated', roomId: deleted.roomId, messageId: rootId });
    return deleted;
  }

  /**
   * Pins (or, with `pinned` false, unpins) a live top-level message, for who
   * has PinMessage (GROUP: OWNER and ADMINs; DIRECT: both). Idempotent; at
   * most 50 pins per room; every call counts against PIN_RATE_LIMIT.
   */
  async setPinned(actor: Actor, messageId: string, pinned: boolean): Promise<Message> {
    const { message, me, roomType } = await this.access.requireMessage(actor, messageId);
    this.access.check(roomType, me, Permission.PinMessage);
    if (message.isDeleted) throw new BadInputError('A deleted message cannot be pinned or unpinned');
    if (message.parentId !== null) throw new BadInputError('Replies cannot be pinned; pin the thread root');
    const result = await this.repos.transaction(async (tx) => {
      // Rate-limit rows last, after the message's and the membership's, as every writer takes them.
      await tx.messages.lockForPin(message.id);
      await this.access.hold(actor, Permission.PinMessage, message.roomId, tx);
      await this.limiter.admit(tx, actor, RateLimitedAction.PIN, message.roomId);
      return tx.messages.setPinned(message.id, pinned ? actor.id : null, MAX_PINS);
    });
    if (!result) throw messageNotFound();
    if (result.full) throw new BadInputError(`A room holds at most ${MAX_PINS} pins; unpin one first`);
    if (result.changed) this.events.publish({ kind: 'messageUpdated', roomId: message.roomId, messageId: message.id });
    return result.message;
  }

  /** A thread root the actor may reply to in `roomId`: visible (NOT_FOUND otherwise), of that room, top-level, live. */
  private async requireThreadRoot(actor: Actor, roomId: string, parentId: string): Promise<void> {
    const { message: parent } = await this.access.requireMessage(actor, parentId);
    if (parent.roomId !== roomId) throw new BadInputError('parentId must name a message of the same room');
    if (parent.parentId !== null) throw new BadInputError('parentId must name a top-level message: replies have no replies');
    if (parent.isDeleted) throw new BadInputError('parentId names a deleted message');
  }

  /** Every mentioned user must be an active member of the room. */
  private async requireMentionable(roomId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const active = new Set((await this.repos.members.findByRoomAndUsers(userIds.map((userId) => ({ roomId, userId })))).filter((m) => m.isActive).map((m) => m.userId));
    const outsider = userIds.find((id) => !active.has(id));
    if (outsider) throw new BadInputError(`mentionIds must name active members of the room; ${outsider} is not one`);
  }
}
