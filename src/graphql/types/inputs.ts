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
}
