import type { Server } from 'node:http';
import type { GraphQLSchema } from 'graphql';
import type { Authenticator } from '../auth/authenticator';
import type { ContextSources } from '../graphql/context';
import type { ErrorFormatter } from '../graphql/format-error';
import type { QueryLimits } from '../graphql/protection';

/** What HTTP and WebSocket share: one schema, one authenticator, one error boundary, the same limits. */
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
}
