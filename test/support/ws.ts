import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';
import { onCleanup, wsClient } from './server';

/** WebSocket helpers shared by every test that talks graphql-ws (or raw frames) to the server. */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'a condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export interface Collected<T = any> {
  /** `data` of every `next` without errors, in arrival order. */
  data: T[];
  /** Every error seen: GraphQL errors (from `next` or `error`), or a socket close (`close:<code>`). */
  errors: { code: string | undefined; message: string }[];
  completed: boolean;
  stop(): void;
}

/** Subscribes and records what arrives. */
export function collect<T = any>(client: Client, query: string, variables: Record<string, unknown> = {}): Collected<T> {
  const sub: Collected<T> = { data: [], errors: [], completed: false, stop: () => {} };
  const pushErrors = (errors: readonly any[]) => {
    for (const e of errors) sub.errors.push({ code: e?.extensions?.code, message: String(e?.message) });
  };
  sub.stop = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors?.length) pushErrors(result.errors);
        else if (result.data) sub.data.push(result.data as T);
      },
      error: (error: unknown) => {
        if (Array.isArray(error)) pushErrors(error);
        else if (error && typeof error === 'object' && 'code' in error) {
          sub.errors.push({ code: `close:${(error as { code: number }).code}`, message: String((error as { reason?: string }).reason) });
        } else sub.errors.push({ code: undefined, message: String(error) });
      },
      complete: () => {
        sub.completed = true;
      },
    },
  );
  return sub;
}

/** The error codes a subscription ended with (waits for one). */
export async function refusal(sub: Collected): Promise<string[]> {
  await waitFor(() => sub.errors.length > 0, 5000, 'the subscription to be refused');
  return sub.errors.map((e) => e.code ?? '(no code)');
}

/**
 * graphql-ws gives no "subscribed" acknowledgement: send probes until every
 * subscription has received one (bounded), so later assertions do not race the
 * server's setup. `received` says whether a datum is the probe with that id.
 */
export async function ready<T>(
  subs: Collected<T>[],
  probe: () => Promise<{ id: string }>,
  received: (datum: T, id: string) => boolean = (d, id) => (d as { messageAdded?: { id: string } }).messageAdded?.id === id,
): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const sent = await probe();
    const deadline = Date.now() + 500;
    while (Date.now() < deadline) {
      if (subs.every((s) => s.data.some((d) => received(d, sent.id)))) return;
      await sleep(20);
    }
  }
  throw new Error(`subscriptions never became ready: ${JSON.stringify(subs.map((s) => s.errors))}`);
}

/** The close code of a socket whose connection_init carries `authorization` (null: none). */
export function closeCodeOf(server: { wsUrl: string }, authorization: string | null, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    let client: Client | null = null;
    const timer = setTimeout(() => reject(new Error(`the socket was not closed within ${timeoutMs} ms`)), timeoutMs);
    client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: authorization === null ? {} : { authorization },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      on: {
        closed: (event) => {
          clearTimeout(timer);
          resolve((event as { code: number }).code);
        },
      },
    });
    onCleanup(() => client?.dispose());
  });
}

/** Resolves once the server acknowledged connection_init for this token. */
export function connects(server: { wsUrl: string }, token: string, timeoutMs = 5000): Promise<Client> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket was not acknowledged')), timeoutMs);
    const client: Client = wsClient(server, token, {
      onNonLazyError: () => {},
      on: {
        connected: () => {
          clearTimeout(timer);
          resolve(client);
        },
        closed: (event) => {
          clearTimeout(timer);
          reject(new Error(`closed with ${(event as { code: number }).code} before being acknowledged`));
        },
      },
    });
  });
}

/** A raw `ws` socket speaking graphql-transport-ws, closed after the test. */
export function rawSocket(server: { wsUrl: string }, origin?: string): WebSocket {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', origin ? { origin } : {});
  socket.on('error', () => {});
  onCleanup(() => socket.terminate());
  return socket;
}

/** 'open' or 'refused' (the handshake failed), whichever comes first. */
export function handshake(socket: WebSocket, timeoutMs = 5000): Promise<'open' | 'refused'> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('handshake neither opened nor failed')), timeoutMs);
    socket.once('open', () => {
      clearTimeout(timer);
      resolve('open');
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve('refused');
    });
    socket.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      resolve('refused');
    });
  });
}

/** The next frame the server sends on a raw socket, parsed. */
export function nextMessage(socket: WebSocket, timeoutMs = 5000): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message from the server')), timeoutMs);
    socket.once('message', (raw) => {
      clearTimeout(timer);
      resolve(JSON.parse(raw.toString()));
    });
  });
}

/** The close code of a raw socket. */
export function closeOf(socket: WebSocket, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the socket was not closed')), timeoutMs);
    socket.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
