import {
  createSourceEventStream,
  execute,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  Kind,
  visit,
} from 'graphql';

/**
 * Fields whose value depends on who is asking: the viewer's own state, and the
 * reads gated by the viewer's membership (membershipChanged also reaches a user
 * just removed, who must not see the room's members or messages). A subscription
 * selecting none of them renders the same result for every recipient of an
 * event, so it is executed once per event instead of once per socket.
 * Conservative: matched by name, on any type.
 */
const VIEWER_FIELDS = new Set(['reactedByMe', 'myMembership', 'unreadCount', 'members', 'messages', 'lastMessage']);

const viewerIndependent = new WeakMap<DocumentNode, boolean>();

function isViewerIndependent(document: DocumentNode): boolean {
  let answer = viewerIndependent.get(document);
  if (answer === undefined) {
    answer = true;
    visit(document, {
      [Kind.FIELD](node) {
        if (VIEWER_FIELDS.has(node.name.value)) answer = false;
      },
    });
    viewerIndependent.set(document, answer);
  }
  return answer;
}

/**
 * The object every delivery of one event points at: the message (read once per
 * event) or the event record itself. Replayed messages are distinct objects, so
 * they are never confused with one another.
 */
function eventKeyOf(delivery: unknown): object | null {
  const payload = (delivery as { payload?: unknown } | null)?.payload;
  return typeof payload === 'object' && payload !== null ? payload : null;
}

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 0;

/**
 * graphql's subscribe, except that each event is executed once per
 * (event, document, variables, operation) when the result cannot differ
 * between recipients. Sockets with the same subscription then share one
 * result; each still gets its own frame.
 */
export function createSharedSubscribe() {
  const results = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  const run = (args: ExecutionArgs, payload: unknown, shareKey: string | null): Promise<ExecutionResult> => {
    const once = () => Promise.resolve(execute({ ...args, rootValue: payload }));
    const event = shareKey === null ? null : eventKeyOf(payload);
    if (event === null || shareKey === null) return once();
    let perEvent = results.get(event);
    if (!perEvent) results.set(event, (perEvent = new Map()));
    let result = perEvent.get(shareKey);
    if (!result) perEvent.set(shareKey, (result = once()));
    return result;
  };

  return async (args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in Object(source))) return source as ExecutionResult;
    let shareKey: string | null = null;
    if (isViewerIndependent(args.document)) {
      let id = documentIds.get(args.document);
      if (id === undefined) documentIds.set(args.document, (id = nextDocumentId++));
      shareKey = `${id}:${args.operationName ?? ''}:${JSON.stringify(args.variableValues ?? {})}`;
    }
    const iterator = (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    const mapped: AsyncGenerator<ExecutionResult> = {
      next: async () => {
        const step = await iterator.next();
        return step.done ? { value: undefined, done: true } : { value: await run(args, step.value, shareKey), done: false };
      },
      // Unsubscribing reaches the stream, which detaches from the event bus.
      return: async () => (iterator.return ? ((await iterator.return()) as IteratorResult<ExecutionResult>) : { value: undefined, done: true }),
      throw: async (error: unknown) => {
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
