import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { MessageType } from './enums';

@InputType('CreateGroupChatInput')
export class CreateGroupChatInput {
  @Field(() => String)
  name: string;

  @Field(() => [ID])
  memberIds: string[];
}

@InputType('SendMessageInput')
export class SendMessageInput {
  @Field(() => ID)
  roomId: string;

  @Field(() => String)
  content: string;

  @Field(() => MessageType, { nullable: true, defaultValue: MessageType.TEXT })
  type: MessageType | null;

  @Field(() => GraphQLJSON, { nullable: true })
  metadata: unknown;

  @Field(() => String, {
    nullable: true,
    description: 'Idempotency key chosen by the client: a retry with the same key returns the first message.',
  })
  clientId: string | null;

  @Field(() => ID, { nullable: true, description: 'Reply in the thread of this message (a top-level message of the same room).' })
  parentId: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: false, description: "With parentId: also show the reply in the room's history." })
  alsoInRoom: boolean | null;

  @Field(() => [ID], { nullable: true, description: 'Users to mention; each must be an active member of the room.' })
  mentionIds: string[] | null;

  @Field(() => [ID], { nullable: true, description: 'Attachments uploaded with createUpload by the sender for this room.' })
  attachmentIds: string[] | null;
}
