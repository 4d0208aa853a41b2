import type { IncomingMessage } from 'node:http';
import { type DocumentNode, type ExecutionResult, GraphQLError, parse, validate, specifiedRules, getOperationAST } from 'graphql';
import { LRUCache } from 'lru-cache';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Authenticated } from '../auth/authenticator';
import { UnauthenticatedError } from '../chat/errors';
import { RowReader } from '../chat/reading/row-reader';
import { createContext } from '../graphql/context';
import { unavailableDependency } from '../graphql/format-error';
import { costError, documentSizeError, parseOptions, protectionRules, queryCost } from '../graphql/protection';
import { OPERATION_LABELS } from '../telemetry/metrics';
import { originAllowed } from './http';
import { ReplayGate } from '../realtime/replay-gate';
import { replaysFirst, SubscriptionBudget, type Reservation } from './subscription-budget';
import { createSubscriptionExecutor } from './subscription-executor';
import type { TransportOptions } from './transport-options';

/** Close codes of our own, beside graphql-ws's CloseCode. */
export enum ChatCloseCode {
  /** Missing or bad token at connection_init. */
  Unauthenticated = 4401,
  /** The token expired while connected. */
  TokenExpired = CloseCode.Forbidden,
  /** The user already has the maximum number of sockets. */
  TooManySockets = 4429,
}

export interface WebSocketOptions extends TransportOptions {
  /** @default 50 */
  maxSubscriptionsPerSocket?: number;
  /** Per server. @default 20 */
  maxSocketsPerUser?: number;
  /** Frames larger than this close the socket (1009). @default 65536 */
  maxFrameBytes?: number;
  /** A peer that does not answer a ping within this is dropped. @default 12000 */
  keepAliveMs?: number;
  /** Called once per execution of a subscription event (tests and benchmarks count them). */
  onExecution?: () => void;
  /** Called when a mutation sent over the socket has run: its user wrote (read replicas wait for it). */
  onWrite?: (userId: string) => void;
}

type CheckedDocument = { document: DocumentNode; errors?: undefined } | { errors: GraphQLError[]; document?: undefined };

/** One socket's state, made by whichever of onConnect and onClose runs first. */
interface ConnectionState {
  auth?: Authenticated;
  /** Set by onClose: an onConnect still awaiting must not count this socket. */
  closed: boolean;
  /** Whether this socket holds one of its user's socket slots. */
  counted: boolean;
  expiryTimer?: NodeJS.Timeout;
  /** The budget reservation of each live subscription, by id. */
  reservations: Map<string, Reservation>;
  /** When onConnect accepted the socket (its open log line and gauge); unset: never accepted. */
  openedAt?: number;
  /** Each running operation's metrics label and type, by id. */
  operations: Map<string, { operation: string; type: string }>;
}

const stateOf = (extra: unknown): ConnectionState => {
  const holder = extra as { state?: ConnectionState };
  return (holder.state ??= { closed: false, counted: false, reservations: new Map(), operations: new Map() });
};

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

/** A key for "the same subscription": text, operation and variables (unkeyable variables make it unique). */
function subscriptionKey(query: string, operationName: string | null | undefined, variables: unknown, id: string): string {
  try {
    return `${query}\u0000${operationName ?? ''}\u0000${JSON.stringify(variables ?? {})}`;
  } catch {
    return `${query}\u0000${operationName ?? ''}\u0000unique:${id}:${Math.random()}`;
  }
}

/**
 * graphql-ws on the HTTP server's port and path. It runs its own
 * parse/validate/execute, so the HTTP limits are wired in here again.
 */
export function attachWebSocketServer(options: WebSocketOptions): { close(): Promise<void>; server: WebSocketServer } {
  const maxSubscriptions = options.maxSubscriptionsPerSocket ?? 50;
  const maxSockets = options.maxSocketsPerUser ?? 20;
  const rules = [...specifiedRules, ...protectionRules(options.limits, options.production)];
  // The user's sockets here are counted by presence (one count per user serves both the cap and who is online).
  const presence = options.sources.services.presence;
  const budget = new SubscriptionBudget(options.limits.maxSubscriptionCostPerUser);
  const replayGate = new ReplayGate(options.limits.replayMessagesPerSecond);
  let replayCount = 0;

  const wss = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    maxPayload: options.maxFrameBytes ?? 64 * 1024,
    // Browsers send Origin on same-origin handshakes too: outside production a page served by
    // this host (the React example) is let in. In production only CORS_ORIGINS counts: trusting
    // the Host header would let a DNS-rebinding page (its own name pointed here) in.
    verifyClient: ({ origin, req }: { origin?: string; req: IncomingMessage }) =>
      (!options.production && sameHost(origin, req.headers.host)) || originAllowed(origin, options.corsOrigins, options.production),
  });

  // Clients send the same few subscription documents over and over: parse and validate each text once.
  const documents = new LRUCache<string, CheckedDocument>({ max: 1000 });
  const parseAndValidate = (query: string): CheckedDocument => {
    let document: DocumentNode;
    try {
      document = parse(query, parseOptions(options.limits));
    } catch (error) {
      return { errors: codedErrors([error as GraphQLError], 'GRAPHQL_VALIDATION_FAILED') };
    }
    const errors = validate(options.schema, document, rules);
    return errors.length > 0 ? { errors: codedErrors(errors, 'GRAPHQL_VALIDATION_FAILED') } : { document };
  };

  const format = (errors: readonly GraphQLError[]) => errors.map((e) => options.formatError(e.toJSON(), e)) as unknown as GraphQLError[];

  const { logger, metrics } = options;
  /** Counts an operation that starts (OK) or is refused at once (the first error's code). */
  const counted = (operation: string, type: string, errors?: readonly GraphQLError[]): GraphQLError[] | undefined => {
    if (metrics.enabled) {
      const errorCodes = (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
      metrics.operation({ transport: 'ws', operation, type, outcome: errorCodes[0] ?? 'OK', errorCodes });
    }
    return errors as GraphQLError[] | undefined;
  };
  /** Ends what a socket's operation holds in the metrics, once. */
  const ended = (state: ConnectionState, id: string) => {
    const running = state.operations.get(id);
    if (!running) return;
    state.operations.delete(id);
    if (running.type === 'subscription') metrics.subscriptionEnded();
  };

  const releaseSlot = (state: ConnectionState) => {
    if (!state.counted || !state.auth) return;
    state.counted = false;
    presence.closed(state.auth.actor.id);
  };

  const cleanup = useServer<Record<string, unknown>, { state?: ConnectionState }>(
    {
      schema: options.schema,
      subscribe: createSubscriptionExecutor({ newRows: () => new RowReader(options.sources.repos), onExecution: options.onExecution }),
      onConnect: async (ctx) => {
        const state = stateOf(ctx.extra);
        let auth: Authenticated;
        try {
          auth = await options.authenticator.require(ctx.connectionParams?.authorization);
        } catch (error) {
          if (error instanceof UnauthenticatedError) {
            ctx.extra.socket.close(ChatCloseCode.Unauthenticated, 'Unauthorized');
            return false;
          }
          // Not the token's fault, so never 4401 (clients sign out on it). Logged with an id by the
          // one formatter; 1013 Try Again Later is one graphql-ws's client retries, 1011 it does not.
          const { message } = options.formatError({ message: String((error as Error)?.message ?? error) }, error);
          const reason = Buffer.byteLength(message) <= 123 ? message : message.slice(0, 80); // a close reason holds 123 bytes
          ctx.extra.socket.close(unavailableDependency(error) ? 1013 : 1011, reason);
          return false;
        }
        // The socket may have closed while the token was checked: then it takes no slot (onClose has run).
        if (state.closed) return false;
        const userId = auth.actor.id;
        if (presence.socketsOf(userId) >= maxSockets) {
          ctx.extra.socket.close(ChatCloseCode.TooManySockets, `At most ${maxSockets} sockets per user`);
          return false;
        }
        presence.opened(userId);
        state.auth = auth;
        state.counted = true;
        state.openedAt = Date.now();
        metrics.socketOpened();
        logger.info({ transport: 'ws', userId }, 'socket opened');
        const expiresAt = auth.expiresAt;
        if (expiresAt) {
          const ms = Math.max(0, expiresAt.getTime() - Date.now());
          // setTimeout holds at most ~24.8 days; a longer token is re-checked then.
          state.expiryTimer = setTimeout(() => ctx.extra.socket.close(ChatCloseCode.TokenExpired, 'Token expired'), Math.min(ms, 2 ** 31 - 1));
        }
        return true;
      },
      onClose: (ctx, code, reason) => {
        const state = stateOf(ctx.extra);
        state.closed = true;
        clearTimeout(state.expiryTimer);
        releaseSlot(state);
        for (const reservation of state.reservations.values()) reservation.release();
        state.reservations.clear();
        for (const id of [...state.operations.keys()]) ended(state, id);
        const opened = state.openedAt !== undefined;
        metrics.socketClosed(code ?? 1005, opened);
        logger.info(
          {
            transport: 'ws',
            userId: state.auth?.actor.id ?? null,
            code: code ?? null,
            ...(reason && { reason }),
            durationMs: opened ? Date.now() - (state.openedAt as number) : null,
          },
          'socket closed',
        );
      },
      onSubscribe: (ctx, id, payload) => {
        const invalid = OPERATION_LABELS.invalid;
        if (Object.keys(ctx.subscriptions).length > maxSubscriptions) {
          return counted(invalid, '', [new GraphQLError(`At most ${maxSubscriptions} subscriptions per socket`, { extensions: { code: 'BAD_USER_INPUT' } })]);
        }
        const tooLarge = documentSizeError(payload.query, options.limits);
        if (tooLarge) return counted(invalid, '', [tooLarge]);
        let checked = documents.get(payload.query);
        if (!checked) documents.set(payload.query, (checked = parseAndValidate(payload.query)));
        if (checked.errors) return counted(invalid, '', checked.errors);
        const { document } = checked;
        const operationAst = getOperationAST(document, payload.operationName);
        if (!operationAst) {
          return counted(invalid, '', [new GraphQLError('Unable to identify operation', { extensions: { code: 'BAD_USER_INPUT' } })]);
        }
        const label = metrics.operationLabel(operationAst.name?.value, true);
        const type = operationAst.operation;
        const cost = queryCost(options.schema, document, payload.variables ?? undefined, payload.operationName);
        const tooCostly = costError(cost, options.limits);
        if (tooCostly) return counted(label, type, [tooCostly]);
        const state = stateOf(ctx.extra);
        const auth = state.auth as Authenticated;
        const userId = auth.actor.id;
        // The same work budget as over HTTP: a subscription spends its cost once, when it starts (its events have their own budget).
        const spent = options.workBudget.refusal(userId, cost ?? options.limits.maxCost);
        if (spent) return counted(label, type, [new GraphQLError(spent.message, { extensions: { code: spent.code, retryAfter: spent.retryAfter } })]);
        // A subscription that replays shares nothing (each replays on its own) and holds its replay's cost until it has replayed.
        const replays = replaysFirst(options.schema, document, payload.operationName, payload.variables);
        const live = cost ?? 1;
        const key = replays ? `${id}\u0000replay:${(replayCount += 1)}` : subscriptionKey(payload.query, payload.operationName, payload.variables, id);
        // Its replay executes the same selection once per stored message, one at a time: it holds its cost again meanwhile.
        const reserved = budget.reserve(userId, key, live, replays ? live : 0);
        if (reserved instanceof GraphQLError) return counted(label, type, [reserved]);
        state.reservations.get(id)?.release();
        state.reservations.set(id, reserved);
        const contextValue = createContext(options.sources, { auth });
        if (replays) {
          contextValue.replayTurn = async () => {
            const turn = await replayGate.turn(userId);
            return {
              pace: turn.pace,
              release: () => {
                turn.release();
                reserved.replayed();
              },
            };
          };
        }
        counted(label, type);
        ended(state, id);
        state.operations.set(id, { operation: label, type });
        if (type === 'subscription') metrics.subscriptionStarted();
        return {
          schema: options.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue,
        };
      },
      onOperation: (ctx, _id, _payload, args) => {
        if (options.onWrite && getOperationAST(args.document, args.operationName)?.operation === 'mutation') {
          options.onWrite((stateOf(ctx.extra).auth as Authenticated).actor.id);
        }
      },
      onComplete: (ctx, id) => {
        const state = stateOf(ctx.extra);
        state.reservations.get(id)?.release();
        state.reservations.delete(id);
        ended(state, id);
      },
      onNext: (ctx, id, _payload, _args, result: ExecutionResult) => {
        const running = metrics.enabled ? stateOf(ctx.extra).operations.get(id) : undefined;
        if (running?.type === 'subscription') metrics.delivered();
        if (!result.errors?.length) return undefined;
        const errors = format(result.errors);
        if (running) metrics.operationErrors('ws', running.operation, errors.map((e) => String(e.extensions?.code)));
        return { ...result, errors };
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
