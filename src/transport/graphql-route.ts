import { type ApolloServer, HeaderMap } from '@apollo/server';
import type { CorsRequest } from 'cors';
import { Kind, parse } from 'graphql';
import type { Authenticated } from '../auth/authenticator';
import { UnauthenticatedError } from '../chat/errors';
import type { ReadReplicas } from '../db/read-replicas';
import { countStatements } from '../db/statement-counter';
import { createContext, type GraphQLContext, type RequestAuth } from '../graphql/context';
import { unavailableDependency } from '../graphql/format-error';
import { documentSizeError, parseOptions, type QueryLimits } from '../graphql/protection';
import { anonymousIntrospection, keptAnswer } from './anonymous-introspection';
import { type ErrorStep, type HttpRequest, type HttpResponse, type Next, runSteps, searchOf, searchParams, sendJson, type Step } from './exchange';
import type { HttpOptions } from './http';
import { jsonBody } from './json-body';
import { attachObservation, noteOutcome, observeRequests } from './request-observer';

/** Largest request body: a GraphQL document with its variables. */
const BODY_LIMIT_BYTES = 1024 * 1024;

/** What Express's `app.use('/graphql')` matched: the path, any case, and below it. */
export function isGraphqlPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  // The path alone: a request line may name the whole URL (`POST http://host/graphql`), as to a proxy.
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url)?.[0].length ?? 0;
  const end = url.slice(origin).search(/[?#]/);
  const path = (end < 0 ? url.slice(origin) : url.slice(origin, origin + end)).toLowerCase();
  return path === '/graphql' || path.startsWith('/graphql/');
}

/**
 * /graphql, served from the HTTP server's listener without Express: Express's
 * per-request set-up, router and body parsing were a tenth of a history
 * page's CPU, for a route that needs none of them. The steps are Express's
 * middleware contract (each hands on with `next`), in order: observe the
 * request, CORS, the body, the document's size, the token, the read scope,
 * the statement count, Apollo.
 */
export function graphqlRoute(
  options: HttpOptions,
  apollo: ApolloServer<GraphQLContext>,
  allowOrigins: (req: CorsRequest, res: HttpResponse, next: Next) => void,
): (req: HttpRequest, res: HttpResponse, done: Next) => void {
  return runSteps(
    [
      observeRequests({ logger: options.logger, metrics: options.metrics, tracer: options.tracer }),
      allowOrigins as Step,
      jsonBody(BODY_LIMIT_BYTES),
      refuseLargeDocuments(options.limits),
      authenticateFirst(options),
      // The request's read scope (the caller; the primary until its operation is known to be a query): only with replicas,
      // AsyncLocalStorage taxes every promise.
      ...(options.replicas ? [readScope(options.replicas)] : []),
      // Count each request's statements (tests, benchmarks): AsyncLocalStorage taxes every promise, so only when asked.
      ...(options.reportStatements ? [(_req: unknown, _res: unknown, next: Next) => void countStatements(() => next())] : []),
      runApollo(apollo, (res) => attachObservation(createContext(options.sources, res.locals.requestAuth as RequestAuth), res)),
    ],
    answerBodyError,
  );
}

/** Body parser failures (too large, not JSON) answered as GraphQL errors, not HTML. */
export const answerBodyError: ErrorStep = (error, _req, res) => {
  // An answer already begun cannot become an error: the connection is closed instead (as Express did).
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined);
    return;
  }
  const status = Number((error as { status?: number }).status) || 500;
  const tooLarge = status === 413;
  noteOutcome(res, 'BAD_USER_INPUT');
  sendJson(res, status >= 400 && status < 500 ? status : 400, {
    errors: [
      {
        message: tooLarge ? 'Request body must be at most 1 MiB' : 'Request body is not valid JSON',
        extensions: { code: 'BAD_USER_INPUT' },
      },
    ],
  });
};

/** Oversize query text is refused before Apollo parses it, in a POST body or a GET's query string. */
function refuseLargeDocuments(limits: QueryLimits): Step {
  return (req, res, next) => {
    const query = req.method === 'GET' ? searchParam(req, 'query') : (req.body as { query?: unknown } | undefined)?.query;
    const tooLarge = documentSizeError(query, limits);
    if (!tooLarge) return next();
    noteOutcome(res, 'GRAPHQL_VALIDATION_FAILED');
    sendJson(res, 400, { errors: [{ message: tooLarge.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
  };
}

/** Runs the rest of the request in a read scope of its caller (src/db/read-replicas.ts). */
function readScope(replicas: ReadReplicas): Step {
  return (_req, res, next) => replicas.run((res.locals.requestAuth as RequestAuth).auth?.actor.id ?? null, () => next());
}

/**
 * Apollo's HTTP request and response, as its Express integration makes them
 * (the headers, the query string, the parsed body), the body written in one piece.
 */
function runApollo(apollo: ApolloServer<GraphQLContext>, context: (res: HttpResponse) => Promise<GraphQLContext> | GraphQLContext): Step {
  return async (req, res) => {
    const headers = new HeaderMap();
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: (req.method ?? 'GET').toUpperCase(), headers, search: searchOf(req), body: req.body },
      context: async () => context(res),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      // A text body is UTF-8, and says so (Express's res.send added the charset to Apollo's landing page's text/html).
      const type = res.getHeader('content-type');
      if (typeof type === 'string' && !type.includes('charset')) res.setHeader('content-type', `${type}; charset=utf-8`);
      // Only a JSON answer is kept for the next anonymous asker (a browser's GET gets the landing page's HTML).
      if (res.statusCode === 200 && /json/.test(String(res.getHeader('content-type')))) keptAnswer(res)?.(response.body.string);
      // As bytes: a string would be joined to the headers and copied flat on the heap before the socket copies it again.
      res.end(Buffer.from(response.body.string));
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}

/** Root fields introspection answers; a document of only these may be sent without a token outside production (Sandbox). */
const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);

function introspectionOnly(query: unknown, limits: QueryLimits): boolean {
  if (typeof query !== 'string') return false;
  try {
    return parse(query, parseOptions(limits)).definitions.every(
      (d) =>
        d.kind === Kind.FRAGMENT_DEFINITION ||
        (d.kind === Kind.OPERATION_DEFINITION &&
          d.selectionSet.selections.every((s) => s.kind === Kind.FIELD && INTROSPECTION_FIELDS.has(s.name.value))),
    );
  } catch {
    return false;
  }
}

/** A GET request's parameter (`query`, `extensions`), undefined when absent. */
function searchParam(req: HttpRequest, name: string): string | undefined {
  return searchParams(req).get(name) ?? undefined;
}

/**
 * Every operation needs a valid token, so a request without one is refused
 * here, before Apollo parses, validates or costs its document (work an
 * anonymous client could otherwise make the server do for nothing). Outside
 * production, introspection alone is let through, so Sandbox can load the
 * schema before a token is set: answered from the answers already given, and
 * a new document only while a small allowance lasts
 * (src/transport/anonymous-introspection.ts). The verified token travels to the context.
 * Only a bad token is a 401 (clients sign their user out on it): a failure to
 * check a good one (the database is down while its user is recorded) is the
 * server's, shaped by the one error formatter, 503 while the database is away.
 */
function authenticateFirst(options: HttpOptions): Step {
  const anonymous = anonymousIntrospection(options.anonymousAllowance);
  return async (req, res, next) => {
    let auth: Authenticated | null = null;
    let authError: UnauthenticatedError | null = null;
    try {
      auth = await options.authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) {
        const formatted = options.formatError({ message: String((error as Error)?.message ?? error) }, error);
        noteOutcome(res, String(formatted.extensions?.code), formatted.extensions?.errorId as string | undefined);
        sendJson(res, unavailableDependency(error) ? 503 : 500, { errors: [formatted] });
        return;
      }
      authError = error;
    }
    res.locals.requestAuth = { auth, authError } satisfies RequestAuth;
    const get = req.method === 'GET';
    const query = get ? searchParam(req, 'query') : (req.body as { query?: unknown } | undefined)?.query;
    const graphqlRequest = !get || query !== undefined || searchParam(req, 'extensions') !== undefined;
    if (auth || !graphqlRequest) return next();
    if (!options.production && introspectionOnly(query, options.limits)) return anonymous(req, res, next);
    noteOutcome(res, 'UNAUTHENTICATED');
    sendJson(
      res,
      401,
      {
        errors: [
          {
            message: authError?.message ?? 'Authentication required: send Authorization: Bearer <token>',
            extensions: { code: 'UNAUTHENTICATED' },
          },
        ],
      },
      { 'www-authenticate': 'Bearer' },
    );
  };
}
