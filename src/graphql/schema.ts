import 'reflect-metadata';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { DateTime } from './scalars';
import { buildSchemaSync } from 'type-graphql';
import { AttachmentFieldsResolver, AttachmentMutationResolver, MessageAttachmentsResolver } from './resolvers/attachment.resolver';
import { MembershipEventFieldsResolver, ReadReceiptFieldsResolver, TypingEventFieldsResolver } from './resolvers/event.resolver';
import { MemberFieldsResolver } from './resolvers/member.resolver';
import { MessageFieldsResolver, ReactionSummaryFieldsResolver } from './resolvers/message.resolver';
import { MutationResolver } from './resolvers/mutation.resolver';
import { QueryResolver } from './resolvers/query.resolver';
import { RoomFieldsResolver } from './resolvers/room.resolver';
import { SubscriptionResolver } from './resolvers/subscription.resolver';

/**
 * type-graphql insists on a PubSub, but every subscription here brings its own
 * `subscribe` (src/realtime/chat-streams.ts), so this one is never used.
 */
const unusedPubSub = {
  publish: () => {
    throw new Error('Publish through the EventBus, not type-graphql');
  },
  subscribe: () => {
    throw new Error('Subscriptions use their own subscribe function');
  },
};

let built: GraphQLSchema | null = null;

/** The executable schema; built once per process (type-graphql's metadata is global). */
export function buildChatSchema(): GraphQLSchema {
  built ??= buildSchemaSync({
    resolvers: [
      QueryResolver,
      MutationResolver,
      SubscriptionResolver,
      RoomFieldsResolver,
      MemberFieldsResolver,
      MessageFieldsResolver,
      ReactionSummaryFieldsResolver,
      MembershipEventFieldsResolver,
      TypingEventFieldsResolver,
      ReadReceiptFieldsResolver,
      AttachmentMutationResolver,
      MessageAttachmentsResolver,
      AttachmentFieldsResolver,
    ],
    scalarsMap: [{ type: Date, scalar: DateTime }],
    // Rules live in the services; class-validator is used there, not on GraphQL args.
    validate: false,
    pubSub: unusedPubSub,
  });
  return built;
}

/** The SDL committed as schema.graphql: sorted, so it changes only when the API does. */
export function printChatSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildChatSchema()))}\n`;
}
