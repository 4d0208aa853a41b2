import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { DateTime } from '../scalars';

@ObjectType('Attachment', { simpleResolvers: true })
export class AttachmentObject {
  @Field(() => ID)
  id: string;

  @Field(() => String)
  filename: string;

  @Field(() => String)
  contentType: string;

  @Field(() => Int, { description: 'Bytes.' })
  size: number;

  @Field(() => Int, { nullable: true })
  width: number | null;

  @Field(() => Int, { nullable: true })
  height: number | null;
}

@ObjectType('UploadTicket', { simpleResolvers: true })
export class UploadTicketObject {
  @Field(() => ID)
  attachmentId: string;

  @Field(() => String, { description: "Send the file's bytes here with `method` and `headers`, before `expiresAt`." })
  uploadUrl: string;

  @Field(() => String)
  method: string;

  @Field(() => GraphQLJSON)
  headers: Record<string, string>;

  @Field(() => DateTime)
  expiresAt: string;
}
