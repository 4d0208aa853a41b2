import type { IncomingMessage, Server } from 'node:http';
import { type DocumentNode, type ExecutionResult, GraphQLError, parse, validate, specifiedRules, getOperationAST } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Authenticated, Authenticator } from '../auth/authenticator';
import { createContext, type ContextSources } from '../graphql/context';
import type { ErrorFormatter } from '../graphql/format-error';
import { costError, documentSizeError, protectionRules, type QueryLimits } from '../graphql/protection';
import { originAllowed } from './http';
import { createSharedSubscribe } from './shared-execution';

/** Close codes of our own, beside graphql-ws's CloseCode. */
export enum ChatCloseCode {
  /** Missing or bad token at connection_init. */
  Unauthenticated = 4401,
  /** The token expired while connected. */
  TokenExpired = CloseCode.Forbidden,
  /** The user already has the maximum number of sockets. */
  TooManySockets = 4429,
}

export interface WebSocketOptions {
  schema: GraphQLSchema;
  httpServer: Server;
  authenticator: Authenticator;
  sources: Omit<ContextSources, 'auth' | 'authError'>;
  formatError: ErrorFormatter;
  limits: QueryLimits;
  production: boolean;
  corsOrigins: string[] | undefined;
  /** @default 50 */
  maxSubscriptionsPerSocket?: number;
  /** Per instance. @default 20 */
  maxSocketsPerUser?: number;
  /** Frames larger than this close the socket (1009). @default 65536 */
  maxFrameBytes?: number;
  /** A peer that does not answer a ping within this is dropped. @default 12000 */
  keepAliveMs?: number;
}

type CheckedDocument = { document: DocumentNode; errors?: undefined } | { errors: GraphQLError[]; document?: undefined };

interface ConnectionState {
  auth?: Authenticated;
  expiryTimer?: NodeJS.Timeout;
}

function sameHost(origin: string | undefined, host: string | undefined): boolean {
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const codedErrors = (errors: readonly GraphQLError[], code: string) =>
  errors.map((e) => new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code } }));

/**
 * graphql-ws on the HTTP server's port and path. It runs its own
 * parse/validate/execute, so the HTTP limits are wired in here again.
 */
export function attachWebSocketServer(options: WebSocketOptions): { close(): Promise<void>; server: WebSocketServer } {
  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? 50;
  const maxSockets = options.maxSocketsPerUser ?? 20;
  const rules = [...specifiedRules, ...protectionRules(options.limits, options.production)];
  const socketsPerUser = new Map<string, number>();

  const wss = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: options.maxFrameBytes ?? 64 * 1024,
    // Browsers send Origin on same-origin handshakes too: a page served by this host (the React example) is always let in.
    verifyClient: ({ origin, req }: { origin?: string; req: IncomingMessage }) =>
      sameHost(origin, req.headers.host) || originAllowed(origin, options.corsOrigins, options.production),
  });

  // Clients send the same few subscription documents over and over: parse and validate each text once.
  const documents = new LRUCache<string, CheckedDocument>({ max: 1000 });
  const parseAndValidate = (query: string): CheckedDocument => {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return { errors: codedErrors([error as GraphQLError], 'GRAPHQL_VALIDATION_FAILED') };
    }
    const errors = validate(options.schema, document, rules);
    return errors.length > 0 ? { errors: codedErrors(errors, 'GRAPHQL_VALIDATION_FAILED') } : { document };
  };

  const format = (errors: readonly GraphQLError[]) =>
    errors.map((e) => options.formatError(e.toJSON(), e)) as unknown as GraphQLError[];

  const cleanup = useServer<Record<string, unknown>, { state: ConnectionState }>(
    {
      schema: options.schema,
      subscribe: createSharedSubscribe(),
      onConnect: async (ctx) => {
        const state: ConnectionState = {};
        (ctx.extra as { state?: ConnectionState }).state = state;
        try {
          state.auth = await options.authenticator.require(ctx.connectionParams?.authorization);
        } catch {
          ctx.extra.socket.close(ChatCloseCode.Unauthenticated, 'Unauthorized');
          return false;
        }
        const userId = state.auth.actor.id;
        const open = socketsPerUser.get(userId) ?? 0;
        if (open >= maxSockets) {
          ctx.extra.socket.close(ChatCloseCode.TooManySockets, `At most ${maxSockets} sockets per user`);
          state.auth = undefined;
          return false;
        }
        socketsPerUser.set(userId, open + 1);
        const expiresAt = state.auth.expiresAt;
        if (expiresAt) {
          const ms = Math.max(0, expiresAt.getTime() - Date.now());
          // setTimeout holds at most ~24.8 days; a longer token is re-checked then.
          state.expiryTimer = setTimeout(() => ctx.extra.socket.close(ChatCloseCode.TokenExpired, 'Token expired'), Math.min(ms, 2 ** 31 - 1));
        }
        return true;
      },
      onClose: (ctx) => {
        const state = (ctx.extra as { state?: ConnectionState }).state;
        if (!state) return;
        clearTimeout(state.expiryTimer);
        if (state.auth) {
          const userId = state.auth.actor.id;
          const open = (socketsPerUser.get(userId) ?? 1) - 1;
          if (open <= 0) socketsPerUser.delete(userId);
          else socketsPerUser.set(userId, open);
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        if (Object.keys(ctx.subscriptions).length > maxSubscriptions) {
          return [
            new GraphQLError(`At most ${maxSubscriptions} subscriptions per socket`, {
              extensions: { code: 'BAD_USER_INPUT' },
            }),
          ];
        }
        const tooLarge = documentSizeError(payload.query, options.limits);
        if (tooLarge) return [tooLarge];
        let checked = documents.get(payload.query);
        if (!checked) documents.set(payload.query, (checked = parseAndValidate(payload.query)));
        if (checked.errors) return checked.errors;
        const { document } = checked;
        if (!getOperationAST(document, payload.operationName)) {
          return [new GraphQLError('Unable to identify operation', { extensions: { code: 'BAD_USER_INPUT' } })];
        }
        const tooCostly = costError(options.schema, document, payload.variables ?? undefined, payload.operationName, options.limits);
        if (tooCostly) return [tooCostly];
        const state = (ctx.extra as { state: ConnectionState }).state;
        return {
          schema: options.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext({ ...options.sources, auth: state.auth ?? null }),
        };
      },
      onNext: (_ctx, _id, _payload, _args, result: ExecutionResult) => {
        if (!result.errors?.length) return undefined;
        return { ...result, errors: format(result.errors) };
      },
      // Errors returned by onSubscribe (limits, validation) are formatted here, like every other.
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    wss,
    options.keepAliveMs ?? 12_000,
  );

  return {
    server: wss,
    close: async () => {
      // graphql-ws closes each socket with 1001 Going Away; clients reconnect elsewhere.
      await cleanup.dispose();
    },
  };
}
