import { buildSubgraphSchema, printSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { GraphQLError, isObjectType, parse, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import { createResolversMap } from 'type-graphql';
import type { GraphQLContext } from './context';
import { listBound } from './list-bounds';
import { buildChatSchema } from './schema';

/** The Federation 2 features the SDL uses. */
const FEDERATION_LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

/** Representations one `_entities` call may resolve (a gateway asks for a page's worth at once). */
export const MAX_REPRESENTATIONS = 500;

type Reference = { id: string };

/**
 * Entities resolve through the request's readers, so an entity answers as its
 * root field would: a Room as `room(id)` (NOT_FOUND unless the caller sees it),
 * a Message as `message(id)`, a User as the caller may see users by id.
 */
const entityResolvers = {
  User: { __resolveReference: (ref: Reference, ctx: GraphQLContext) => ctx.viewer().user(ref.id) },
  Room: { __resolveReference: (ref: Reference, ctx: GraphQLContext) => ctx.viewer().requireRoom(ref.id) },
  Message: { __resolveReference: (ref: Reference, ctx: GraphQLContext) => ctx.viewer().message(ref.id) },
};

let built: GraphQLSchema | null = null;

/**
 * The API as an Apollo Federation 2 subgraph (SUBGRAPH=1): the same
 * type-graphql classes and resolvers, printed with their `@key` directives and
 * rebuilt by `buildSubgraphSchema`, which adds `_service` and `_entities`.
 * Built once per process, like the default schema.
 */
export function buildChatSubgraphSchema(): GraphQLSchema {
  if (built) return built;
  const chat = buildChatSchema();
  const resolvers = createResolversMap(chat) as GraphQLResolverMap<GraphQLContext>;
  for (const [type, resolver] of Object.entries(entityResolvers)) Object.assign(resolvers[type] as object, resolver);
  const subgraph = buildSubgraphSchema([{ typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(chat)}`), resolvers }]);
  copyFieldExtensions(chat, subgraph);
  boundEntities(subgraph);
  built = subgraph;
  return built;
}

/** The subgraph's SDL as a supergraph build takes it (`rover subgraph publish --schema subgraph.graphql`). */
export function printChatSubgraphSchema(): string {
  return `${printSubgraphSchema(buildChatSubgraphSchema())}\n`;
}

/**
 * SDL carries no field extensions, and the cost estimator and list bounds are
 * declared there (`@Extensions(listBound(...))`): each field gets its
 * extensions back from the class-built schema. Fields are plain objects in
 * graphql-js; set once, before the schema serves anything.
 */
function copyFieldExtensions(from: GraphQLSchema, to: GraphQLSchema): void {
  for (const type of Object.values(to.getTypeMap())) {
    const source = from.getType(type.name);
    if (!isObjectType(type) || !isObjectType(source)) continue;
    const sourceFields = source.getFields();
    for (const [name, field] of Object.entries(type.getFields())) {
      const extensions = sourceFields[name]?.extensions;
      if (extensions) Object.assign(field, { extensions: { ...field.extensions, ...extensions } });
    }
  }
}

/**
 * `_entities` is a list like any other: its cost counts it at the number of
 * representations asked for (at most MAX_REPRESENTATIONS), and a call with
 * more is refused before anything is read.
 */
function boundEntities(schema: GraphQLSchema): void {
  const field = schema.getQueryType()?.getFields()._entities;
  if (!field) return;
  const resolve = field.resolve as GraphQLFieldResolver<unknown, GraphQLContext>;
  Object.assign(field, {
    extensions: { ...field.extensions, ...listBound({ lengthOf: 'representations', max: MAX_REPRESENTATIONS }) },
    resolve: (source: unknown, args: { representations: unknown[] }, context: GraphQLContext, info: Parameters<typeof resolve>[3]) => {
      if (args.representations.length > MAX_REPRESENTATIONS) {
        throw new GraphQLError(`_entities takes at most ${MAX_REPRESENTATIONS} representations, got ${args.representations.length}`, {
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      return resolve(source, args, context, info);
    },
  });
}
