import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import cors from 'cors';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { RateLimitedError } from '../chat/errors';
import type { ReadReplicas } from '../db/read-replicas';
import { currentStatementTally } from '../db/statement-counter';
import type { GraphQLContext } from '../graphql/context';
import { unavailableDependency } from '../graphql/format-error';
import type { WorkBudget } from '../chat/limits/work-budget';
import { costError, parseOptions, protectionRules, queryCost, type QueryLimits } from '../graphql/protection';
import type { AnonymousAllowance } from './anonymous-introspection';
import { compiledGateway } from './compiled-executor';
import { type HttpResponse, sendJson } from './exchange';
import { localFileRoutes, type LocalFilesOptions } from './files';
import { answerBodyError, graphqlRoute, isGraphqlPath } from './graphql-route';
import { observationPlugin, type RequestTracer } from './request-observer';
import type { TransportOptions } from './transport-options';

export interface HttpOptions extends TransportOptions {
  /** Answers /ready: true when the database (and Redis, if used) answer. */
  ready: () => Promise<Record<string, boolean>>;
  /** More for /ready to say that does not decide readiness (the read replicas). */
  readyDetails?: () => Record<string, unknown>;
  /** Read replicas: a query operation's reads may go to one (src/db/read-replicas.ts). */
  replicas?: ReadReplicas;
  /** Adds `extensions.sqlStatements` to responses (tests measure statement budgets with it). */
  reportStatements?: boolean;
  /** Apollo plugins that must join the drain (the WebSocket server's). */
  plugins?: ApolloServerPlugin<GraphQLContext>[];
  /** Mints development tokens at POST /dev/token when set (never in production). */
  devTokens?: (claims: { userId?: unknown; name?: unknown; companyId?: unknown }) => Promise<{ token: string; userId: string }>;
  /** A built web client served at `/`. */
  exampleDir?: string;
  /** How many new anonymous introspection documents are computed per second (outside production). */
  anonymousAllowance?: AnonymousAllowance;
  /** Serve GET /metrics (when the metrics are on); with a token it needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** A span per request (OTEL_EXPORTER_OTLP_ENDPOINT); unset: no tracing. */
  tracer?: RequestTracer;
  /** Attachments kept on local disk: served at PUT /uploads/<id> and GET /files/<id> (src/transport/files.ts). */
  localFiles?: LocalFilesOptions;
}

/** RATE_LIMITED over HTTP is also a 429 with Retry-After. */
const rateLimitStatus: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, errors }) {
        const limited = errors?.map((e) => e.originalError).find((e) => e instanceof RateLimitedError);
        if (!limited) return;
        response.http.status = 429;
        response.http.headers.set('retry-after', String(limited.retryAfter));
      },
    };
  },
};

/** A response with an error of the database (or another dependency) being unreachable is a 503: retry later, the token is fine. */
const unavailableStatus: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response, errors }) {
        if (errors?.some((e) => unavailableDependency(e.originalError ?? e))) response.http.status = 503;
      },
    };
  },
};

/** The caller's id, or null for a request without a valid token. */
function callerId(context: GraphQLContext): string | null {
  try {
    return context.actor().id;
  } catch {
    return null;
  }
}

/**
 * Refuses subscriptions (HTTP cannot stream them), costly operations once
 * variables are known, and a caller's operation past their work budget (429),
 * before any resolver runs.
 */
function queryCostLimit(limits: QueryLimits, workBudget: WorkBudget): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, request: { variables }, operationName, operation, contextValue }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) at /graphql, not over HTTP', {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
          const cost = queryCost(schema, document, variables, operationName);
          const tooCostly = costError(cost, limits);
          if (tooCostly) throw tooCostly;
          // Anonymous documents (introspection outside production) have their own allowance.
          const userId = callerId(contextValue);
          const spent = userId === null ? null : workBudget.refusal(userId, cost ?? limits.maxCost);
          if (spent) throw spent;
        },
      };
    },
  };
}

/**
 * Which database a request reads (src/db/read-replicas.ts): the primary, until
 * Apollo has resolved the operation and it is a query (a pure read: its reads
 * may go to a replica). A mutation is its caller's write: when it ends, their
 * reads wait for a replica that has replayed it.
 */
function readRoute(replicas: ReadReplicas): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === 'query') replicas.pureRead();
        },
        async willSendResponse({ operation }) {
          if (operation?.operation === 'mutation') replicas.scopeWrote();
        },
      };
    },
  };
}

/**
 * Origins allowed by CORS_ORIGINS; unset means any outside production and none
 * in it (production needs an explicit list). Same-origin HTTP requests never
 * need CORS; WebSocket handshakes carry an Origin even then, so a page served
 * by this API in production names its own origin in CORS_ORIGINS.
 */
export function originAllowed(origin: string | undefined, allowed: string[] | undefined, production: boolean): boolean {
  if (origin === undefined) return true; // not a browser: nothing cross-site to protect
  if (allowed === undefined) return !production;
  return allowed.includes(origin);
}

export async function createHttpApp(options: HttpOptions): Promise<{ app: Express; apollo: ApolloServer<GraphQLContext>; listener: RequestListener }> {
  const apollo = new ApolloServer<GraphQLContext>({
    // Operations run compiled (graphql-jit), graphql-js as the fallback: src/transport/compiled-executor.ts.
    gateway: compiledGateway(options.schema),
    introspection: !options.production,
    hideSchemaDetailsFromClientErrors: options.production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // src/index.ts owns SIGTERM: Apollo's own handler would re-raise the signal and kill the process mid-drain.
    stopOnTerminationSignals: false,
    validationRules: protectionRules(options.limits, options.production),
    parseOptions: parseOptions(options.limits),
    formatError: options.formatError,
    // Apollo's default appends a newline: a second string, flattened into a copy of the body before it becomes bytes.
    stringifyResult: (result) => JSON.stringify(result),
    plugins: [
      // First: it must see the operation resolved before a later plugin refuses it.
      observationPlugin(),
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer }),
      // No HTTP caching of chat data; the default plugin wraps every field resolution to compute it.
      ApolloServerPluginCacheControlDisabled(),
      // As a subgraph, Apollo would time every field for Apollo's usage reports (ftv1): traces here are OpenTelemetry's.
      ApolloServerPluginInlineTraceDisabled(),
      options.production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
      rateLimitStatus,
      // After rateLimitStatus: an outage outranks a rate limit.
      unavailableStatus,
      queryCostLimit(options.limits, options.workBudget),
      ...(options.reportStatements ? [statementReport] : []),
      ...(options.replicas ? [readRoute(options.replicas)] : []),
      ...(options.plugins ?? []),
    ],
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  // GraphQL answers are not cached by validators: hashing every response body for an ETag is work for nothing.
  app.set('etag', false);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    const checks = await options.ready();
    const ok = Object.values(checks).every(Boolean);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'unavailable', checks, ...options.readyDetails?.() });
  });
  if (options.metrics.enabled) app.get('/metrics', metricsRoute(options));
  // One CORS policy (CORS_ORIGINS) for every browser-facing route.
  const allowOrigins = cors<cors.CorsRequest>({
    origin: (origin, done) => done(null, originAllowed(origin, options.corsOrigins, options.production)),
    credentials: true,
  });
  if (options.devTokens) {
    const mint = options.devTokens;
    app.use('/dev/token', allowOrigins);
    app.post('/dev/token', express.json({ limit: '4kb' }), async (req, res) => {
      try {
        res.json(await mint((req.body ?? {}) as Record<string, unknown>));
      } catch (error) {
        res.status(400).json({ error: (error as Error).message });
      }
    });
  }
  if (options.localFiles) app.use(localFileRoutes(options.localFiles, allowOrigins));
  if (options.exampleDir) app.use(express.static(options.exampleDir));
  app.use(bodyErrors);
  const graphql = graphqlRoute(options, apollo, allowOrigins);
  // /graphql is served straight from the listener (src/transport/graphql-route.ts); everything else by Express.
  const listener: RequestListener = (req, res) =>
    isGraphqlPath(req.url) ? graphql(req, res as HttpResponse, () => sendJson(res, 404, { error: 'Not found' })) : app(req, res);
  return { app, apollo, listener };
}

/** GET /metrics: the Prometheus text; with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`. */
function metricsRoute({ metrics, metricsToken }: HttpOptions): RequestHandler {
  // Compared as digests of equal length, in constant time: the token is a secret like any other.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  const expected = metricsToken === undefined ? null : digest(`Bearer ${metricsToken}`);
  return async (req, res) => {
    if (expected && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      res.status(401).set('www-authenticate', 'Bearer').json({ error: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' });
      return;
    }
    res.type(metrics.contentType).send(await metrics.text());
  };
}

/** Body parser failures elsewhere (POST /dev/token) answered as /graphql answers them. */
const bodyErrors: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) return next(error);
  answerBodyError(error, req, res);
};

const statementReport: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        const tally = currentStatementTally();
        if (tally && response.body.kind === 'single') {
          response.body.singleResult.extensions = {
            ...response.body.singleResult.extensions,
            sqlStatements: tally.count,
            sqlRows: tally.rows,
          };
        }
      },
    };
  },
};
