import 'reflect-metadata';
import { type GraphQLFieldResolver, GraphQLSchema, isObjectType, lexicographicSortSchema, printSchema } from 'graphql';
import type { GraphQLContext } from './context';
import { DateTime } from './scalars';
import { buildSchemaSync } from 'type-graphql';
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

/**
 * Per-item fields with an argument, resolved directly rather than through
 * type-graphql's wrapper: it checks each argument in an async function even
 * with validation off, so every call of such a field was a promise and a
 * Promise.all, whatever the resolver returned. A history page with 19 aliased
 * `readBy` on 200 messages made 3,800 of each (issue 17, F3). The methods are
 * the resolvers' own (they use no `this`), so the schema and the behaviour are
 * those the decorators declare; only the wrapping goes.
 */
const DIRECT_RESOLVERS: Record<string, Record<string, GraphQLFieldResolver<never, GraphQLContext, { limit: number | null }>>> = {
  Message: {
    readBy: (message, { limit }, ctx) => MessageFieldsResolver.prototype.readBy(message, ctx, limit),
    edits: (message, { limit }, ctx) => MessageFieldsResolver.prototype.edits(message, ctx, limit),
  },
  ReactionSummary: {
    users: (summary, { limit }, ctx) => ReactionSummaryFieldsResolver.prototype.users(summary, ctx, limit),
  },
};

function resolveDirectly(schema: GraphQLSchema): GraphQLSchema {
  for (const [typeName, fields] of Object.entries(DIRECT_RESOLVERS)) {
    const type = schema.getType(typeName);
    if (!isObjectType(type)) throw new Error(`DIRECT_RESOLVERS names ${typeName}, not an object type of the schema`);
    for (const [fieldName, resolve] of Object.entries(fields)) {
      const field = type.getFields()[fieldName];
      if (!field) throw new Error(`DIRECT_RESOLVERS names ${typeName}.${fieldName}, not a field of the schema`);
      field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
    }
  }
  return schema;
}

let built: GraphQLSchema | null = null;

/** The executable schema; built once per process (type-graphql's metadata is global). */
export function buildChatSchema(): GraphQLSchema {
  built ??= resolveDirectly(buildSchemaSync({
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
    ],
    scalarsMap: [{ type: Date, scalar: DateTime }],
    // Rules live in the services; class-validator is used there, not on GraphQL args.
    validate: false,
    pubSub: unusedPubSub,
  }));
  return built;
}

/** The SDL committed as schema.graphql: sorted, so it changes only when the API does. */
export function printChatSchema(): string {
  return `${printSchema(lexicographicSortSchema(buildChatSchema()))}\n`;
}
