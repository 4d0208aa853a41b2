/**
 * The WebSocket load generator, in a process of its own: graphql-ws clients, one
 * socket per subscriber, each recording when every messageAdded reaches it.
 */
import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';
import { nowMs, serve, sleep } from '../lib/common';

interface Sub {
  token: string;
  variables: Record<string, unknown>;
}

const groups = new Map<string, { clients: Client[]; dispose: (() => void)[] }>();
let receipts = new Map<string, number[]>();
let received = 0;
let streamErrors = 0;
let lastError = '';

/**
 * One authenticated graphql-ws socket; `settle` is called with true once it is
 * acknowledged, false if it closes or fails first (later calls are ignored).
 */
function openSocket(url: string, token: string, lazy: boolean, settle: (ok: boolean) => void): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy,
    on: { connected: () => settle(true), closed: () => settle(false), error: () => settle(false) },
  });
}

/** A settle-once callback for a socket: counts it connected or failed, then resolves. */
function settleOnce(count: { connected: number; failed: number }, resolve: () => void): (ok: boolean) => void {
  let settled = false;
  return (ok) => {
    if (settled) return;
    settled = true;
    if (ok) count.connected += 1;
    else count.failed += 1;
    resolve();
  };
}

async function connect(msg: { group: string; url: string; query: string; subs: Sub[]; concurrency?: number; timeoutMs?: number }) {
  const group = { clients: [] as Client[], dispose: [] as (() => void)[] };
  groups.set(msg.group, group);
  const started = Date.now();
  const deadline = started + (msg.timeoutMs ?? 120_000);
  const count = { connected: 0, failed: 0 };
  const concurrency = msg.concurrency ?? 100;
  for (let i = 0; i < msg.subs.length && Date.now() < deadline; i += concurrency) {
    const batch = msg.subs.slice(i, i + concurrency);
    await Promise.all(
      batch.map(
        (sub) =>
          new Promise<void>((resolve) => {
            const settle = settleOnce(count, resolve);
            const client = openSocket(msg.url, sub.token, true, settle);
            group.clients.push(client);
            const unsubscribe = client.subscribe<{ messageAdded: { id: string } }>(
              { query: msg.query, variables: sub.variables },
              {
                next: (result) => {
                  const at = nowMs();
                  const id = result.data?.messageAdded?.id;
                  if (!id) {
                    streamErrors += 1;
                    lastError = JSON.stringify(result.errors ?? result).slice(0, 300);
                    return;
                  }
                  let list = receipts.get(id);
                  if (!list) receipts.set(id, (list = []));
                  list.push(at);
                  received += 1;
                },
                error: (error) => {
                  streamErrors += 1;
                  lastError = String((error as Error)?.message ?? JSON.stringify(error)).slice(0, 300);
                  settle(false);
                },
                complete: () => {},
              },
            );
            group.dispose.push(unsubscribe);
            setTimeout(() => settle(false), Math.max(0, deadline - Date.now())).unref();
          }),
      ),
    );
  }
  return { ...count, ms: Date.now() - started, streamErrors, lastError };
}

/** A socket of `openMany`: one user's token and the subscriptions it opens. */
interface ManySocket {
  token: string;
  subs: { query: string; variables: Record<string, unknown> }[];
}

/** What a group of `openMany` saw: refusals (BAD_USER_INPUT) apart from other errors; results received. */
export interface ManyStats {
  opened: number;
  refused: number;
  errors: number;
  completed: number;
  results: number;
  firstRefusal: string;
  lastError: string;
}

const manyStats = new Map<string, ManyStats>();

/**
 * Many subscriptions over few sockets (graphql-ws multiplexes them): every
 * subscription of `sockets[i].subs` on socket i. Returns once every socket is
 * acknowledged (or failed); subscriptions are then accepted or refused by the
 * server in their own time (`manyStats` counts refusals as they come back).
 */
async function openMany(msg: { group: string; url: string; sockets: ManySocket[]; timeoutMs?: number }) {
  const group = { clients: [] as Client[], dispose: [] as (() => void)[] };
  groups.set(msg.group, group);
  const stats: ManyStats = { opened: 0, refused: 0, errors: 0, completed: 0, results: 0, firstRefusal: '', lastError: '' };
  manyStats.set(msg.group, stats);
  const count = { connected: 0, failed: 0 };
  await Promise.all(
    msg.sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          const settle = settleOnce(count, resolve);
          const client = openSocket(msg.url, socket.token, false, settle);
          group.clients.push(client);
          for (const sub of socket.subs) {
            stats.opened += 1;
            group.dispose.push(
              client.subscribe(
                { query: sub.query, variables: sub.variables },
                {
                  next: (result) => {
                    if (result.errors?.length) {
                      stats.errors += 1;
                      stats.lastError = JSON.stringify(result.errors).slice(0, 300);
                    } else stats.results += 1;
                  },
                  error: (error) => {
                    const list = Array.isArray(error) ? (error as { message?: string; extensions?: { code?: string } }[]) : [];
                    if (list.some((e) => e.extensions?.code === 'BAD_USER_INPUT')) {
                      stats.refused += 1;
                      if (!stats.firstRefusal) stats.firstRefusal = String(list[0]?.message).slice(0, 300);
                    } else {
                      stats.errors += 1;
                      stats.lastError = (list.length ? JSON.stringify(list) : String((error as Error)?.message ?? error)).slice(0, 300);
                    }
                  },
                  complete: () => (stats.completed += 1),
                },
              ),
            );
          }
          setTimeout(() => settle(false), msg.timeoutMs ?? 30_000).unref();
        }),
    ),
  );
  return count;
}

/** The counts of an `openMany` group; `reset` zeroes its results count. */
function stats(msg: { group: string; reset?: boolean }) {
  const s = manyStats.get(msg.group);
  if (!s) return null;
  const copy = { ...s };
  if (msg.reset) s.results = 0;
  return copy;
}

async function waitFor(msg: { count: number; timeoutMs: number }) {
  const deadline = Date.now() + msg.timeoutMs;
  while (received < msg.count && Date.now() < deadline) await sleep(20);
  return { received, streamErrors, lastError };
}

function take() {
  const result = { byId: Object.fromEntries(receipts), received, streamErrors, lastError };
  receipts = new Map();
  received = 0;
  return result;
}

async function close(msg: { group: string }) {
  const group = groups.get(msg.group);
  if (!group) return 0;
  groups.delete(msg.group);
  manyStats.delete(msg.group);
  for (const d of group.dispose) d();
  await Promise.all(group.clients.map((c) => c.dispose()));
  return group.clients.length;
}

serve(
  { connect, openMany, stats, waitFor, take, close, cpu: () => process.cpuUsage() },
  async () => {
    for (const name of [...groups.keys()]) await close({ group: name });
  },
);
process.send?.({ type: 'ready' });
