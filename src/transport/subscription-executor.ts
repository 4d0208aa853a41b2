import {
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  getOperationAST,
  getVariableValues,
  GraphQLError,
} from 'graphql';
import type { RowReader } from '../chat/reading/row-reader';
import type { EventViewers, GraphQLContext } from '../graphql/context';
import { readsViewer } from '../graphql/per-viewer';
import type { Delivery } from '../realtime/chat-streams';

export interface SubscriptionExecutorOptions {
  /** A fresh reader of shared rows for one event; every execution of that event on this server uses it. */
  newRows: () => RowReader;
  /** Called once per execution of an event (tests and benchmarks count them). */
  onExecution?: () => void;
}

/** Variables that do not fit this many characters as JSON are not worth a sharing key: those executions are not shared. */
const MAX_SHARE_KEY = 4096;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * The one caller of `execute` for subscription events. For each delivery of a
 * stream it builds the event's context (the event's shared rows; a viewer
 * only if the selection reads one, with the reads of that viewer for this
 * event shared by all their executions of it) and executes once per (event, document,
 * operation, coerced variables), plus the user when a per-viewer field is
 * selected (src/graphql/per-viewer.ts). So sockets with the same subscription
 * share one result per event, a user's identical subscriptions share theirs,
 * and each still gets its own frame. Every failure, even one graphql-js does
 * not catch, ends as a result with errors (formatted and masked by the one
 * formatter), never as a crashed socket.
 */
export function createSubscriptionExecutor(options: SubscriptionExecutorOptions) {
  const rowsByEvent = new WeakMap<object, RowReader>();
  const viewersByEvent = new WeakMap<object, EventViewers>();
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  const rowsOf = (event: object): RowReader => {
    let rows = rowsByEvent.get(event);
    if (!rows) rowsByEvent.set(event, (rows = options.newRows()));
    return rows;
  };
  const viewersOf = (event: object): EventViewers => {
    let viewers = viewersByEvent.get(event);
    if (!viewers) viewersByEvent.set(event, (viewers = new Map()));
    return viewers;
  };

  const run = (args: ExecutionArgs, delivery: Delivery<unknown>, perViewer: boolean, shareKey: string | null): Promise<ExecutionResult> => {
    const once = () => {
      options.onExecution?.();
      const contextValue = (args.contextValue as GraphQLContext).forEvent(rowsOf(delivery.key), perViewer ? viewersOf(delivery.key) : null);
      return Promise.resolve(execute({ ...args, rootValue: delivery.payload, contextValue }));
    };
    // Results are shared per payload: every delivery of one live event carries the same object;
    // replayed messages are distinct objects (they share only their batch's rows).
    const payload = delivery.payload;
    if (shareKey === null || typeof payload !== 'object' || payload === null) return once();
    let perEvent = results.get(payload);
    if (!perEvent) results.set(payload, (perEvent = new Map()));
    let result = perEvent.get(shareKey);
    if (!result) perEvent.set(shareKey, (result = once()));
    return result;
  };

  return async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    let source: unknown;
    let shareKey: string | null;
    let perViewer: boolean;
    try {
      source = await createSourceEventStream(args);
      if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
      perViewer = readsViewer(args.schema, args.document);
      shareKey = shareKeyOf(args, perViewer ? (args.contextValue as GraphQLContext).actor().id : '');
    } catch (error) {
      return failed(error);
    }
    const iterator = (source as AsyncIterable<Delivery<unknown>>)[Symbol.asyncIterator]();
    let finished = false;
    const mapped: AsyncGenerator<ExecutionResult> = {
      next: async () => {
        if (finished) return { value: undefined, done: true };
        try {
          const step = await iterator.next();
          if (step.done) return { value: undefined, done: true };
          return { value: await run(args, step.value, perViewer, shareKey), done: false };
        } catch (error) {
          // The stream broke (the database went away, the subscriber fell too far behind): its last word is an error.
          finished = true;
          await iterator.return?.();
          return { value: failed(error), done: false };
        }
      },
      // Unsubscribing reaches the stream, which detaches from the event bus.
      return: async () => {
        finished = true;
        return iterator.return ? ((await iterator.return()) as IteratorResult<ExecutionResult>) : { value: undefined, done: true };
      },
      throw: async (error: unknown) => {
        finished = true;
        if (iterator.throw) return (await iterator.throw(error)) as IteratorResult<ExecutionResult>;
        throw error;
      },
      [Symbol.asyncIterator]() {
        return mapped;
      },
    } as AsyncGenerator<ExecutionResult>;
    return mapped;
  };
}

/** (document, operation, coerced variables, user): null when the variables are too large to key on. */
function shareKeyOf(args: ExecutionArgs, userId: string): string | null {
  let id = documentIds.get(args.document);
  if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation) return null;
  // Coerced: only the declared variables, as the operation sees them (unused ones never reach the key).
  const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
  if (coerced.errors) return null;
  let variables: string;
  try {
    variables = JSON.stringify(coerced.coerced);
  } catch {
    return null;
  }
  if (variables.length > MAX_SHARE_KEY) return null;
  return `${id}:${args.operationName ?? ''}:${userId}:${variables}`;
}

/** Any failure as a result the error formatter shapes (GraphQL errors as they are, the rest masked and logged). */
function failed(error: unknown): ExecutionResult {
  const graphqlError =
    error instanceof GraphQLError ? error : new GraphQLError((error as Error)?.message ?? String(error), { originalError: error as Error });
  return { errors: [graphqlError] };
}
