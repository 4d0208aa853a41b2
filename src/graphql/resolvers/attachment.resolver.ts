import { Arg, Ctx, Extensions, FieldResolver, ID, Int, Mutation, Resolver, Root } from 'type-graphql';
import type { Attachment } from '../../chat/attachments/attachment.entity';
import { MAX_ATTACHMENTS } from '../../chat/attachments/attachment.service';
import type { Message } from '../../chat/messages/message.entity';
import { type Maybe } from '../../chat/reading/batch';
import { isOutside } from '../../chat/reading/outside';
import type { GraphQLContext } from '../context';
import { listBound } from '../list-bounds';
import { AttachmentObject, UploadTicketObject } from '../types/attachment-types';
import { MessageObject } from '../types/object-types';

/**
 * Attachments. A message's files are read like its other relations: only where
 * the message itself was let through (history, changes, search, a stream's
 * audience). A deleted message has none, and neither has a message read from
 * outside its room (a room the caller left): no fresh URL for a file of a
 * room one is no longer in.
 */
@Resolver(() => MessageObject)
export class MessageAttachmentsResolver {
  @FieldResolver(() => [AttachmentObject], { description: `The files sent with the message, in order, at most ${MAX_ATTACHMENTS}; empty once it is deleted.` })
  @Extensions(listBound({ cap: MAX_ATTACHMENTS }))
  attachments(@Root() message: Message, @Ctx() ctx: GraphQLContext): Maybe<AttachmentObject[]> {
    return message.isDeleted || isOutside(message) ? [] : ctx.rows().attachments(message.id);
  }
}

@Resolver(() => AttachmentObject)
export class AttachmentFieldsResolver {
  @FieldResolver(() => String, { description: 'A short-lived download URL.' })
  url(@Root() attachment: Attachment, @Ctx() ctx: GraphQLContext): Promise<string> {
    return ctx.services.attachments.downloadUrl(attachment);
  }
}

@Resolver()
export class AttachmentMutationResolver {
  @Mutation(() => UploadTicketObject, { description: 'Reserves an attachment and returns where to upload its bytes.' })
  createUpload(
    @Ctx() ctx: GraphQLContext,
    @Arg('roomId', () => ID) roomId: string,
    @Arg('filename', () => String) filename: string,
    @Arg('contentType', () => String) contentType: string,
    @Arg('size', () => Int) size: number,
  ): Promise<UploadTicketObject> {
    return ctx.services.attachments.createUpload(ctx.actor(), roomId, filename, contentType, size);
  }
}
