import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { Authenticator } from '../auth/authenticator';
import type { ContextSources } from '../graphql/context';
import type { ErrorFormatter } from '../graphql/format-error';
import type { QueryLimits } from '../graphql/protection';
import type { Logger } from '../logger';
import type { Metrics } from '../telemetry/metrics';
import type { WorkBudget } from '../chat/limits/work-budget';

/** What HTTP and WebSocket share: one schema, one authenticator, one error boundary, the same limits, one log and one set of metrics. */
export interface TransportOptions {
  schema: GraphQLSchema;
  httpServer: Server;
  authenticator: Authenticator;
  sources: ContextSources;
  formatError: ErrorFormatter;
  limits: QueryLimits;
  production: boolean;
  /** Unset: any origin outside production, none in production. */
  corsOrigins: string[] | undefined;
  /** Where each request's and each socket's line goes. */
  logger: Logger;
  /** NO_METRICS when /metrics is not served. */
  metrics: Metrics;
  /** The query cost each user may spend per second, over both transports at once. */
  workBudget: WorkBudget;
}
