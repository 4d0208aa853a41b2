import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import {
  type DocumentNode,
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  type GraphQLSchema,
  type ValidationContext,
  type ValidationRule,
  isListType,
  getNullableType,
  type GraphQLObjectType,
  type GraphQLInterfaceType,
  isObjectType,
  isInterfaceType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
} from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';
import { boundSize, extraCostOf, listBoundOf } from './list-bounds';

/** Limits on what one GraphQL document may ask; the same on HTTP and WebSocket. */
export interface QueryLimits {
  /** @default 8 */
  maxDepth: number;
  /** @default 20 */
  maxAliases: number;
  /** Weighted field count: a list costs its bound (`limit`, `pageSize`, a cap) times its items. @default 100000 */
  maxCost: number;
  /** Bytes of query text. @default 20000 */
  maxDocumentBytes: number;
  /** Lexical tokens of a document: the parser stops there, before any validation work. @default 1000 */
  maxTokens: number;
  /**
   * What the subscriptions of one user (across their sockets on a server) may
   * cost per event, each counted at its query cost; identical subscriptions of
   * a user share one execution and count once. @default 2000
   */
  maxSubscriptionCostPerUser: number;
  /**
   * Stored messages one user's `since` replays send per second, together, past
   * a burst of twice as many (src/realtime/replay-gate.ts). @default 1000
   */
  replayMessagesPerSecond: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 8,
  maxAliases: 20,
  maxCost: 100_000,
  maxDocumentBytes: 20_000,
  maxTokens: 1000,
  maxSubscriptionCostPerUser: 2000,
  replayMessagesPerSecond: 1000,
};

/** graphql-js parse options: the token limit refuses a huge document while it is being read. */
export const parseOptions = (limits: QueryLimits) => ({ maxTokens: limits.maxTokens });

/** A list field the schema left without a bound (none should: test/schema.test.ts) weighs this many items. */
const UNBOUNDED_LIST_WEIGHT = 1000;

/**
 * What introspection lists hold in this schema: `__schema.types` all its
 * types, a type's `fields` (`args`, `enumValues`...) what such a type has on
 * average. So a document of introspection costs what it makes the server
 * walk, and 20 aliased copies of a deep one cost 20 times that.
 */
function introspectionSizes(schema: GraphQLSchema): Map<string, number> {
  let sizes = introspectionSizesOf.get(schema);
  if (sizes) return sizes;
  const types = Object.values(schema.getTypeMap());
  const withFields = types.filter((t): t is GraphQLObjectType | GraphQLInterfaceType => isObjectType(t) || isInterfaceType(t));
  const fields = withFields.flatMap((t) => Object.values(t.getFields()));
  const average = (counts: number[]) => Math.max(1, Math.ceil(counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length)));
  sizes = new Map([
    ['__Schema.types', types.length],
    ['__Schema.directives', schema.getDirectives().length],
    ['__Type.fields', average(withFields.map((t) => Object.keys(t.getFields()).length))],
    ['__Type.interfaces', average(withFields.map((t) => t.getInterfaces().length))],
    ['__Type.possibleTypes', average(types.filter(isAbstractType).map((t) => schema.getPossibleTypes(t).length))],
    ['__Type.enumValues', average(types.filter(isEnumType).map((t) => t.getValues().length))],
    ['__Type.inputFields', average(types.filter(isInputObjectType).map((t) => Object.keys(t.getFields()).length))],
    ['__Field.args', average(fields.map((f) => f.args.length))],
    ['__Directive.args', average(schema.getDirectives().map((d) => d.args.length))],
    ['__Directive.locations', Math.max(...schema.getDirectives().map((d) => d.locations.length))],
  ]);
  introspectionSizesOf.set(schema, sizes);
  return sizes;
}
const introspectionSizesOf = new WeakMap<GraphQLSchema, Map<string, number>>();

/**
 * A field weighs what it can make the server produce: a bounded field
 * (src/graphql/list-bounds.ts) its bound times its selection, nested lists
 * multiplied (`changes(limit: 500) { messages { mentions } }` costs 500 x 50
 * mentions); introspection lists what they hold in this schema.
 */
function listEstimator(schema: GraphQLSchema): ComplexityEstimator {
  return ({ type, field, args, childComplexity }) => {
    const extra = extraCostOf(field);
    const bound = listBoundOf(field);
    if (bound) return extra + boundSize(bound, args) * (1 + childComplexity);
    if (!isListType(getNullableType(field.type))) return extra === 0 ? undefined : 1 + extra + childComplexity;
    const size = introspectionSizes(schema).get(`${type.name}.${field.name}`) ?? UNBOUNDED_LIST_WEIGHT;
    return size * (1 + childComplexity);
  };
}

/**
 * graphql-armor throws from inside validation by default, which servers answer
 * as a crash (500); reporting instead makes it an ordinary validation error.
 */
const reportInstead = {
  propagateOnRejection: false,
  onReject: [
    (context: ValidationContext | null, error: GraphQLError) =>
      context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })),
  ],
};

/** The validation rules added to graphql's own, for both transports. */
export function protectionRules(limits: QueryLimits, production: boolean): ValidationRule[] {
  const rules: ValidationRule[] = [
    maxDepthRule({ n: limits.maxDepth, exposeLimits: true, flattenFragments: true, ...reportInstead }) as unknown as ValidationRule,
    maxAliasesRule({ n: limits.maxAliases, exposeLimits: true, ...reportInstead }) as unknown as ValidationRule,
  ];
  if (production) rules.push(NoSchemaIntrospectionCustomRule);
  return rules;
}

/** Costs already computed, per document (the same object for the same text) and operation + variables. */
const costs = new WeakMap<DocumentNode, LRUCache<string, { cost: number | null }>>();
/** A document's remembered costs at most: clients page with few distinct variable sets. */
const COSTS_PER_DOCUMENT = 256;

/**
 * The query's cost with its variables known; null when the variables are bad
 * (execution reports them). Remembered per document and variables: the same
 * page asked again costs a map look-up, not a walk of the document.
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): number | null {
  let perDocument = costs.get(document);
  if (!perDocument) costs.set(document, (perDocument = new LRUCache({ max: COSTS_PER_DOCUMENT })));
  let key: string;
  try {
    key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
  } catch {
    return computeCost(schema, document, variables, operationName);
  }
  let known = perDocument.get(key);
  if (known === undefined) perDocument.set(key, (known = { cost: computeCost(schema, document, variables, operationName) }));
  return known.cost;
}

function computeCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | undefined | null,
): number | null {
  try {
    return getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [listEstimator(schema), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch {
    return null;
  }
}

/**
 * The query's cost, checked once variables are known (a `limit: $n` weighs what
 * $n says), so it runs after validation rather than as a validation rule.
 */
export function costError(cost: number | null, limits: QueryLimits): GraphQLError | null {
  if (cost === null || cost <= limits.maxCost) return null;
  return new GraphQLError(`Query cost must be at most ${limits.maxCost}, got ${cost}: ask for fewer or smaller lists`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
  });
}

/** Refuses a query text over the size limit before it is parsed. */
export function documentSizeError(query: unknown, limits: QueryLimits): GraphQLError | null {
  if (typeof query !== 'string') return null;
  const bytes = Buffer.byteLength(query, 'utf8');
  if (bytes <= limits.maxDocumentBytes) return null;
  return new GraphQLError(`Query documents must be at most ${limits.maxDocumentBytes} bytes, got ${bytes}`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
  });
}
