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
} from 'graphql';
import { getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';

/** Limits on what one GraphQL document may ask; the same on HTTP and WebSocket. */
export interface QueryLimits {
  /** @default 8 */
  maxDepth: number;
  /** @default 20 */
  maxAliases: number;
  /** Weighted field count: a list costs its `limit`/`pageSize` times its items. @default 50000 */
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
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 8,
  maxAliases: 20,
  maxCost: 50_000,
  maxDocumentBytes: 20_000,
  maxTokens: 1000,
  maxSubscriptionCostPerUser: 2000,
};

/** graphql-js parse options: the token limit refuses a huge document while it is being read. */
export const parseOptions = (limits: QueryLimits) => ({ maxTokens: limits.maxTokens });

/** A list without a size argument (members, reactions, users) is taken to hold this many items. */
const UNSIZED_LIST_WEIGHT = 5;

/**
 * Lists weigh what their size argument asks for: `messages(limit: 200)` costs
 * 200 times its selection. Arguments that fail validation weigh the maximum.
 */
const listEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!isListType(getNullableType(field.type))) return undefined;
  const requested = Number(args.limit ?? args.pageSize ?? UNSIZED_LIST_WEIGHT);
  const size = Number.isFinite(requested) && requested > 0 ? Math.min(requested, 200) : UNSIZED_LIST_WEIGHT;
  return size * (1 + childComplexity);
};

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
const costs = new WeakMap<DocumentNode, Map<string, number | null>>();
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
  if (!perDocument) costs.set(document, (perDocument = new Map()));
  let key: string;
  try {
    key = `${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
  } catch {
    return computeCost(schema, document, variables, operationName);
  }
  let cost = perDocument.get(key);
  if (cost === undefined) {
    cost = computeCost(schema, document, variables, operationName);
    if (perDocument.size >= COSTS_PER_DOCUMENT) perDocument.clear();
    perDocument.set(key, cost);
  }
  return cost;
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
      estimators: [listEstimator, simpleEstimator({ defaultComplexity: 1 })],
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
