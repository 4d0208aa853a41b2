import 'reflect-metadata';
import { type GraphQLFieldResolver, type GraphQLResolveInfo, GraphQLScalarType, GraphQLSchema, isObjectType, lexicographicSortSchema, printSchema } from 'graphql';
import { DateTime } from './scalars';
import { buildSchemaSync, getMetadataStorage } from 'type-graphql';
import { MembershipEventFieldsResolver, PresenceEventFieldsResolver, ReadReceiptFieldsResolver, TypingEventFieldsResolver } from './resolvers/event.resolver';
import { AttachmentFieldsResolver, AttachmentMutationResolver, MessageAttachmentsResolver } from './resolvers/attachment.resolver';
import { MemberFieldsResolver } from './resolvers/member.resolver';
import { MessageFieldsResolver, ReactionSummaryFieldsResolver } from './resolvers/message.resolver';
import { MutationResolver } from './resolvers/mutation.resolver';
import { QueryResolver } from './resolvers/query.resolver';
import { RoomFieldsResolver } from './resolvers/room.resolver';
import { SubscriptionResolver } from './resolvers/subscription.resolver';
import { UserFieldsResolver } from './resolvers/user.resolver';

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

/** What type-graphql knows of a resolver method's parameter (its own type is not exported). */
type ParamMetadata = NonNullable<ReturnType<typeof getMetadataStorage>['fieldResolvers'][number]['params']>[number];

/** An argument type whose values type-graphql passes through unchanged: a scalar or an enum, never an input class. */
function passesThrough(type: unknown): boolean {
  return type instanceof GraphQLScalarType || type === String || type === Number || type === Boolean || (typeof type === 'object' && type !== null);
}

/** A parameter the direct call can give as type-graphql would (no property of the root or context, no conversion, no check). */
function givenDirectly(param: ParamMetadata): boolean {
  switch (param.kind) {
    case 'root':
      return param.propertyName === undefined && param.getType === undefined;
    case 'context':
      return param.propertyName === undefined;
    case 'info':
      return true;
    case 'arg':
      return passesThrough(param.getType());
    default:
      return false;
  }
}

/** What a resolver that declared no info parameter is handed in its place (never read). */
const NO_INFO = undefined as unknown as GraphQLResolveInfo;

type Pick = (root: unknown, args: Record<string, unknown>, context: unknown, info: GraphQLResolveInfo) => unknown;

function picker(param: ParamMetadata): Pick {
  switch (param.kind) {
    case 'root':
      return (root) => root;
    case 'context':
      return (_root, _args, context) => context;
    case 'info':
      return (_root, _args, _context, info) => info;
    case 'arg': {
      const { name } = param;
      return (_root, args) => args[name];
    }
    default:
      throw new Error(`no direct parameter of kind ${param.kind}`);
  }
}

/** The field resolvers left on type-graphql's path (a test keeps it empty). */
const wrapped: string[] = [];

/** The `Type.field`s whose resolver type-graphql still wraps, because a parameter needs its conversion. */
export function wrappedFieldResolvers(): readonly string[] {
  buildChatSchema();
  return wrapped;
}

/**
 * Field resolvers (the `@FieldResolver` methods) are called directly rather
 * than through type-graphql's wrapper, which on every call looks the resolver
 * up in its container, sorts the parameters, and checks each argument in an
 * async function even with validation off: any field with an argument was a
 * promise and a Promise.all whatever its resolver returned (a history page
 * with 19 aliased `readBy` on 200 messages made 3,800 of each: issue 17, F3),
 * and every other field paid the lookups. The direct call gives the method the
 * same parameters, for the methods whose parameters need nothing of the
 * wrapper (the root, the context, the info, scalar or enum arguments, no
 * middleware): all of ours today; any other keeps type-graphql's path.
 */
function resolveDirectly(schema: GraphQLSchema): GraphQLSchema {
  wrapped.length = 0;
  const storage = getMetadataStorage();
  const typeNames = new Map<Function, string>(storage.objectTypes.map((t) => [t.target, t.name]));
  const instances = new Map<Function, Record<string, (...params: unknown[]) => unknown>>();
  for (const resolver of storage.fieldResolvers) {
    if (resolver.kind !== 'external' || resolver.middlewares?.length || resolver.roles?.length || !resolver.getObjectType) continue;
    const typeName = typeNames.get(resolver.getObjectType() as Function);
    const type = typeName === undefined ? undefined : schema.getType(typeName);
    const field = isObjectType(type) ? type.getFields()[resolver.schemaName] : undefined;
    const params = [...(resolver.params ?? [])].sort((a, b) => a.index - b.index);
    if (!field) continue;
    if (!params.every(givenDirectly)) {
      wrapped.push(`${typeName}.${resolver.schemaName}`);
      continue;
    }
    let instance = instances.get(resolver.target);
    if (!instance) instances.set(resolver.target, (instance = new (resolver.target as new () => Record<string, (...params: unknown[]) => unknown>)()));
    const target = instance;
    const method = target[resolver.methodName];
    const [a, b, c] = params.map(picker);
    // No array per call for the usual one to three parameters.
    const call: GraphQLFieldResolver<unknown, unknown> =
      params.length === 1
        ? (root, args, context, info) => method.call(target, a(root, args, context, info))
        : params.length === 2
          ? (root, args, context, info) => method.call(target, a(root, args, context, info), b(root, args, context, info))
          : params.length === 3
            ? (root, args, context, info) => method.call(target, a(root, args, context, info), b(root, args, context, info), c(root, args, context, info))
            : (root, args, context, info) => method.apply(target, params.map((p) => picker(p)(root, args, context, info)));
    // A resolver that takes no info says so: the compiled executor (graphql-jit, as patched:
    // patches/graphql-jit+0.8.9.patch) then builds none for each call.
    field.resolve = params.some((p) => p.kind === 'info')
      ? call
      : Object.assign((root: unknown, args: Record<string, unknown>, context: unknown) => call(root, args, context, NO_INFO), { resolvesWithoutInfo: true });
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
      UserFieldsResolver,
      PresenceEventFieldsResolver,
      AttachmentMutationResolver,
      MessageAttachmentsResolver,
      AttachmentFieldsResolver,
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
