import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContext, RequestAuth } from '../graphql/context';
import type { HttpResponse, Step } from './exchange';
import type { Logger } from '../logger';
import { OPERATION_LABELS, type Metrics } from '../telemetry/metrics';

/**
 * What one HTTP GraphQL request came to, filled in as it goes: by the Apollo
 * plugin below, or by whatever answered it before Apollo (no token, a body too
 * large). Read once, when the response is done, for its log line, its metrics
 * and its span.
 */
export interface Observation {
  /** The operation Apollo resolved (null before that, or when it could not). */
  operationName: string | null;
  operationType: string | null;
  /** True once Apollo took the request (it was not refused before). */
  reachedApollo: boolean;
  /** True once Apollo resolved an operation: only then is its name a label. */
  resolved: boolean;
  /** 'OK' or the first error's code; unset: read from the status. */
  outcome: string | null;
  errorCodes: string[];
  /** The reference of a masked error (the formatter's log line has the same). */
  errorId: string | null;
}

/** What a finished request tells its span. */
export interface ObservedRequest {
  operationName: string | null;
  operationType: string | null;
  outcome: string;
  status: number;
}

/** Spans per request (src/telemetry/tracing.ts); absent: no tracing, nothing done. */
export interface RequestTracer {
  /** Runs `next` with a new span current, so the statements and publishes it causes are its children. */
  start(next: () => void): { end(request: ObservedRequest): void };
}

export interface ObserverOptions {
  logger: Logger;
  metrics: Metrics;
  tracer?: RequestTracer;
}

/** Longest operation name a log line carries (names come from clients). */
const LOGGED_NAME_MAX = 100;

export function observationOf(res: HttpResponse): Observation | undefined {
  return res.locals.observation as Observation | undefined;
}

/** Where a request's observation rides on its context (Apollo hands plugins a shallow copy of the context: a symbol key is copied with it). */
const OBSERVATION = Symbol('observation');

/** Lets the Apollo plugin find the request's observation from its context. */
export function attachObservation(context: GraphQLContext, res: HttpResponse): GraphQLContext {
  Object.defineProperty(context, OBSERVATION, { value: observationOf(res), enumerable: true });
  return context;
}

/** Marks how a request was answered before Apollo saw it. */
export function noteOutcome(res: HttpResponse, outcome: string, errorId?: string): void {
  const observation = observationOf(res);
  if (!observation) return;
  observation.outcome = outcome;
  observation.errorCodes = [outcome];
  if (errorId) observation.errorId = errorId;
}

/** A status's code when nothing more precise was noted (Apollo's own refusals: CSRF, a missing query...). */
function outcomeOfStatus(status: number): string {
  if (status < 400) return 'OK';
  if (status === 401) return 'UNAUTHENTICATED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 429) return 'RATE_LIMITED';
  if (status < 500) return 'BAD_USER_INPUT';
  return 'INTERNAL_SERVER_ERROR';
}

/**
 * The first handler of /graphql: times each request and, once its response is
 * done, writes its one log line (operation, type, duration, outcome, user,
 * error id), counts it, and ends its span. Requests refused before Apollo
 * (401, 413, a bad body) are observed like the rest.
 */
export function observeRequests({ logger, metrics, tracer }: ObserverOptions): Step {
  return (_req, res, next) => {
    const started = process.hrtime.bigint();
    const observation: Observation = { operationName: null, operationType: null, reachedApollo: false, resolved: false, outcome: null, errorCodes: [], errorId: null };
    res.locals.observation = observation;
    let span: ReturnType<RequestTracer['start']> | undefined;
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.statusCode;
      const outcome = observation.outcome ?? outcomeOfStatus(status);
      const errorCodes = observation.outcome === null && outcome !== 'OK' ? [outcome] : observation.errorCodes;
      const { operationName, operationType } = observation;
      const userId = (res.locals.requestAuth as RequestAuth | undefined)?.auth?.actor.id ?? null;
      logger.info(
        {
          transport: 'http',
          operationName: operationName && operationName.length > LOGGED_NAME_MAX ? operationName.slice(0, LOGGED_NAME_MAX) : operationName,
          operationType,
          durationMs: Math.round(seconds * 10_000) / 10,
          outcome,
          status,
          userId,
          ...(observation.errorId && { errorId: observation.errorId }),
        },
        'graphql request',
      );
      if (metrics.enabled) {
        const label = observation.resolved
          ? metrics.operationLabel(operationName, true)
          : observation.reachedApollo
            ? OPERATION_LABELS.invalid
            : OPERATION_LABELS.refused;
        metrics.operation({ transport: 'http', operation: label, type: operationType ?? '', outcome, errorCodes, seconds });
      }
      span?.end({ operationName, operationType, outcome, status });
    });
    if (tracer) span = tracer.start(next);
    else next();
  };
}

/**
 * Fills in the observation of each request Apollo runs: the operation once it
 * is resolved, the outcome from the errors as the client gets them (formatted:
 * the codes and the error id it sees).
 */
export function observationPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const observation = (contextValue as { [OBSERVATION]?: Observation })[OBSERVATION];
      if (!observation) return;
      observation.reachedApollo = true;
      return {
        async didResolveOperation({ operation, operationName }) {
          if (!operation) return;
          observation.resolved = true;
          observation.operationName = operationName ?? operation.name?.value ?? null;
          observation.operationType = operation.operation;
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          observation.errorCodes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          observation.outcome = observation.errorCodes[0] ?? 'OK';
          const withId = errors?.find((e) => typeof e.extensions?.errorId === 'string');
          if (withId) observation.errorId = withId.extensions?.errorId as string;
        },
      };
    },
  };
}
