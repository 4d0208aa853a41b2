import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Config } from '../config';
import type { ObservedRequest, RequestTracer } from '../transport/request-observer';

export interface Tracing {
  /** A span per HTTP GraphQL request, for createApp. */
  tracer: RequestTracer;
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where spans go instead of the OTLP exporter (tests: an in-memory exporter). */
  spanProcessor?: SpanProcessor;
}

/** Probes and scrapes are not traced: they would drown the requests. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * Starts OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT): spans of incoming HTTP
 * requests, of database statements (pg) and Redis commands (ioredis, publishes
 * included) made while serving one, exported over OTLP/HTTP. It must run
 * before anything loads pg, ioredis or the HTTP server (src/index.ts starts it
 * first, then loads the app): the instrumentations patch those modules as they
 * load. Everything OpenTelemetry is required here, lazily, so a server without
 * an endpoint loads none of it and pays nothing.
 */
export function startTracing(settings: NonNullable<Config['tracing']>, options: TracingOptions = {}): Tracing {
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  // The endpoint is a base URL (the OTLP spec): traces go to <endpoint>/v1/traces.
  const url = `${settings.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const sdk = new NodeSDK({
    serviceName: settings.serviceName,
    spanProcessors: [options.spanProcessor ?? new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) })],
    // Metrics and logs have their own ways out (/metrics, pino): none through OpenTelemetry.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0]) }),
      // Only inside a request's trace: the pool's and the subscriber's own traffic would be noise.
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return { tracer: requestTracer(), shutdown: () => sdk.shutdown() };
}

/** A span per GraphQL request, named by its operation (`query History`), with its name, type and outcome as attributes. */
function requestTracer(): RequestTracer {
  const api = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  const tracer = api.trace.getTracer('chat-api');
  return {
    start(next) {
      const span = tracer.startSpan('graphql');
      // Everything the request does from here (statements, publishes) runs with this span current: its children.
      api.context.with(api.trace.setSpan(api.context.active(), span), next);
      return {
        end({ operationName, operationType, outcome, status }: ObservedRequest) {
          span.updateName(operationType ? `${operationType} ${operationName ?? ''}`.trim() : 'graphql');
          span.setAttributes({
            'graphql.operation.name': operationName ?? '',
            'graphql.operation.type': operationType ?? '',
            'chat.outcome': outcome,
            'http.response.status_code': status,
          });
          // A client's mistake (NOT_FOUND, BAD_USER_INPUT...) is an answer; only the server's own failure marks the span.
          if (outcome === 'INTERNAL_SERVER_ERROR') span.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome });
          span.end();
        },
      };
    },
  };
}
