import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { Client, ExecutionResult } from 'graphql-ws';
import { makeUser, ok, signIn, type TestUser } from '../support/client';
import { wsClient, type TestServer } from '../support/server';
import { compact, describeOp, type Op, type SocketActor } from './arbitraries';

/*
 * How the fuzz run sends an operation (HTTP, graphql-ws) and judges what comes
 * back: no 5xx, no INTERNAL_SERVER_ERROR, every error coded with a documented
 * code, nothing leaked; a batch in which nothing was accepted leaves the stored
 * rows exactly as they were.
 */

export const DOCUMENTED_CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'RATE_LIMITED', 'GRAPHQL_VALIDATION_FAILED'];
/** Driver, SQL or stack text that must never reach a client. */
export const LEAK =
  /QueryFailedError|EntityNotFound|violates [\w ]*constraint|duplicate key value|invalid input syntax for|syntax error at or near|out of range for type|value too long for type|invalid byte sequence|unsupported Unicode escape|node_modules|\bat [\w.<>$]+ \([^)]*:\d+:\d+\)|\.ts:\d+:\d+/;

/* ------------------------------------------------------------ tallies */

/** What one run sent and what came back, printed after the suite. */
export interface Stats {
  ops: number;
  accepted: number;
  refused: number;
  codes: Record<string, number>;
  statuses: Record<string, number>;
  checkedBatches: number;
}

/** Empty tallies for one run. */
export const newStats = (): Stats => ({ ops: 0, accepted: 0, refused: 0, codes: {}, statuses: {}, checkedBatches: 0 });

/** The tallies of a run in one line. */
export function describeStats(name: string, s: Stats): string {
  return (
    `${name}: ${s.ops} operations (${s.accepted} accepted mutations, ${s.refused} refused), ${s.checkedBatches} all-refused batches fingerprinted; ` +
    `codes ${JSON.stringify(s.codes)}${Object.keys(s.statuses).length ? `; statuses ${JSON.stringify(s.statuses)}` : ''}`
  );
}

/** The judgement of one operation's answer. */
export interface Verdict {
  /** A mutation whose root field came back with data: it may have changed rows. */
  mutating: boolean;
  problems: string[];
}

/** Adds to `problems` whatever is wrong with a response's `errors` (and counts their codes). */
export function checkErrors(errors: unknown, stats: Stats, problems: string[]): void {
  if (errors === undefined) return;
  if (!Array.isArray(errors)) {
    problems.push(`errors is not a list: ${JSON.stringify(compact(errors))}`);
    return;
  }
  for (const e of errors as { message?: unknown; extensions?: { code?: unknown; stacktrace?: unknown; exception?: unknown } }[]) {
    const code = e?.extensions?.code;
    stats.codes[String(code)] = (stats.codes[String(code)] ?? 0) + 1;
    if (typeof code !== 'string' || code === '') problems.push(`an error without extensions.code: ${JSON.stringify(compact(e))}`);
    else if (code === 'INTERNAL_SERVER_ERROR') problems.push(`INTERNAL_SERVER_ERROR: ${JSON.stringify(compact(e))}`);
    else if (!DOCUMENTED_CODES.includes(code)) problems.push(`an undocumented error code ${code}: ${JSON.stringify(compact(e))}`);
    if (e?.extensions?.stacktrace !== undefined || e?.extensions?.exception !== undefined) problems.push(`a stack trace in an error: ${JSON.stringify(compact(e))}`);
    if (typeof e?.message !== 'string') problems.push(`an error without a message: ${JSON.stringify(compact(e))}`);
    else if (LEAK.test(e.message)) problems.push(`internal text leaked in an error message: ${JSON.stringify(e.message.slice(0, 300))}`);
  }
}

/** Whether a result has data for a root field of a document that is a mutation. */
export function rootAccepted(query: string, data: unknown): boolean {
  if (!data || typeof data !== 'object') return false;
  if (!/\bmutation\b/.test(query)) return false;
  return Object.values(data as Record<string, unknown>).some((v) => v !== null && v !== undefined);
}

function tally(stats: Stats, verdict: Verdict, hadErrors: boolean): void {
  stats.ops++;
  if (verdict.mutating) stats.accepted++;
  else if (hadErrors) stats.refused++;
}

/* ------------------------------------------------------------ HTTP */

/** Under the 1 MiB HTTP body limit. */
const MAX_HTTP_BODY = 900 * 1024;
/** Under the URL length the server accepts. */
const MAX_GET_SEARCH = 6000;

export interface HttpRequest {
  method: 'GET' | 'POST';
  search: string;
  headers: Record<string, string>;
  body?: string;
}

/** The HTTP request an operation makes, shaped as its `wire` says. */
export function httpRequest(op: Op): HttpRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(op.token !== null && { authorization: `Bearer ${op.token}` }) };
  const body = { query: op.query, variables: op.variables, ...(op.operationName !== undefined && { operationName: op.operationName }) };
  switch (op.wire) {
    case 'json':
      return { method: 'POST', search: '', headers, body: JSON.stringify(body) };
    case 'get': {
      const { 'content-type': _ct, ...rest } = headers;
      const params = new URLSearchParams({ query: op.query, variables: JSON.stringify(op.variables) });
      return { method: 'GET', search: `?${params}`, headers: { ...rest, 'apollo-require-preflight': 'true' } };
    }
    case 'text-plain':
      return { method: 'POST', search: '', headers: { ...headers, 'content-type': 'text/plain' }, body: JSON.stringify(body) };
    case 'query-not-string':
      return { method: 'POST', search: '', headers, body: JSON.stringify({ ...body, query: [op.query.length, null, { query: op.query }, [op.query], true][op.query.length % 5] }) };
    case 'variables-not-object':
      return { method: 'POST', search: '', headers, body: JSON.stringify({ ...body, variables: [JSON.stringify(op.variables), [op.variables], 42, true, 'null'][op.query.length % 5] }) };
    case 'bad-operation-name':
      return { method: 'POST', search: '', headers, body: JSON.stringify({ ...body, operationName: ['Nope', 42, { a: 1 }, '', ['Fuzz']][op.query.length % 5] }) };
    case 'bad-extensions':
      return {
        method: 'POST',
        search: '',
        headers,
        body: JSON.stringify({ ...body, extensions: [{ persistedQuery: { version: 1, sha256Hash: 'deadbeef' } }, 'x', [1], { persistedQuery: 7 }][op.query.length % 4] }),
      };
    case 'invalid-json':
      return { method: 'POST', search: '', headers, body: JSON.stringify(body).slice(0, Math.max(1, Math.floor(op.query.length / 2))) };
    case 'batch':
      return { method: 'POST', search: '', headers, body: JSON.stringify([body, body]) };
    case 'empty-body':
      return { method: 'POST', search: '', headers, body: '' };
  }
}

/** Whether the operation's HTTP request is under the body and URL limits (bigger ones are refused before GraphQL). */
export function fitsHttp(op: Op): boolean {
  const req = httpRequest(op);
  return Buffer.byteLength(req.body ?? '') < MAX_HTTP_BODY && (op.wire !== 'get' || req.search.length < MAX_GET_SEARCH);
}

export interface HttpResponse {
  status: number;
  text: string;
  json: unknown;
  isJson: boolean;
}

/** A request that never got an answer (the connection failed). */
export interface RequestFailed {
  failed: string;
}

/** Sends the request; a failed connection comes back as a `RequestFailed`, not a rejection. */
export async function sendHttp(url: string, req: HttpRequest): Promise<HttpResponse | RequestFailed> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(url + req.search, { method: req.method, headers: req.headers, body: req.body });
    text = await res.text();
  } catch (error) {
    return { failed: String(error) };
  }
  try {
    return { status: res.status, text, json: JSON.parse(text), isJson: true };
  } catch {
    return { status: res.status, text, json: undefined, isJson: false };
  }
}

/** Judges an HTTP answer to `op` and counts it (a failed request is a problem, and is not counted). */
export function checkHttp(op: Op, res: HttpResponse | RequestFailed, stats: Stats): Verdict {
  if ('failed' in res) return { mutating: false, problems: [`the request failed: ${res.failed}`] };
  const problems: string[] = [];
  stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
  if (res.status >= 500) problems.push(`HTTP ${res.status}: ${res.text.slice(0, 300)}`);
  let mutating = false;
  let hadErrors = false;
  if (!res.isJson) {
    if (res.status < 400) problems.push(`a ${res.status} answer that is not JSON: ${res.text.slice(0, 200)}`);
    if (LEAK.test(res.text)) problems.push(`internal text leaked in a ${res.status} answer: ${res.text.slice(0, 400)}`);
  } else {
    const bodies = Array.isArray(res.json) ? res.json : [res.json];
    for (const body of bodies as { data?: unknown; errors?: unknown }[]) {
      if (!body || typeof body !== 'object') {
        problems.push(`a response that is not an object: ${res.text.slice(0, 200)}`);
        continue;
      }
      if (body.errors !== undefined) hadErrors = true;
      checkErrors(body.errors, stats, problems);
      if (rootAccepted(op.query, body.data)) mutating = true;
      if (body.errors === undefined && body.data === undefined) problems.push(`neither data nor errors: ${res.text.slice(0, 200)}`);
    }
  }
  const verdict = { mutating, problems };
  tally(stats, verdict, hadErrors || res.status >= 400);
  return verdict;
}

/* ------------------------------------------------------------ WebSocket */

/** Under the 64 KiB WebSocket frame limit. */
const MAX_WS_FRAME = 60 * 1024;
/** How long a subscription is watched before it is stopped. */
const SUBSCRIPTION_WATCH_MS = 120;
const WS_ANSWER_TIMEOUT_MS = 15_000;

/** Whether the operation's subscribe frame is under the frame limit (bigger ones close the socket). */
export function fitsWsFrame(op: Op): boolean {
  const frame = JSON.stringify({ id: randomUUID(), type: 'subscribe', payload: { query: op.query, variables: op.variables } });
  return Buffer.byteLength(frame) < MAX_WS_FRAME;
}

/** One graphql-ws client per actor, reopened if the server closed it; tells which closed. */
export function actorSockets(server: TestServer, users: Record<SocketActor, TestUser>) {
  const sockets = new Map<string, { client: Client; closed: boolean }>();
  return {
    /** The actor's open client. */
    of(actor: string): Client {
      const current = sockets.get(actor);
      if (current && !current.closed) return current.client;
      const entry = { client: undefined as unknown as Client, closed: false };
      entry.client = wsClient(server, users[actor as SocketActor].token, { on: { closed: () => (entry.closed = true) } });
      sockets.set(actor, entry);
      return entry.client;
    },
    /** The actors whose socket the server closed. */
    closed(): string[] {
      return [...sockets].filter(([, s]) => s.closed).map(([name]) => name);
    },
  };
}

export interface WsOutcome {
  results: ExecutionResult[];
  error?: unknown;
  how: 'complete' | 'error' | 'timeout';
}

/**
 * Sends the operation on the socket and keeps every raw result until it
 * completes, fails, or (subscriptions) has been watched long enough.
 * Not support/ws.ts's `collect`: the checks need the raw errors (extensions,
 * message types) and the data of results that also carry errors.
 */
export function sendWs(client: Client, op: Op): Promise<WsOutcome> {
  return new Promise((resolve) => {
    const results: ExecutionResult[] = [];
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let unsubscribe: () => void = () => {};
    const finish = (how: WsOutcome['how'], error?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (how === 'timeout') unsubscribe();
      resolve({ results, error, how });
    };
    timer = setTimeout(() => finish('timeout'), op.kind === 'subscription' ? SUBSCRIPTION_WATCH_MS : WS_ANSWER_TIMEOUT_MS);
    unsubscribe = client.subscribe(
      { query: op.query, variables: op.variables, ...(typeof op.operationName === 'string' && { operationName: op.operationName }) },
      {
        next: (result) => {
          results.push(result as ExecutionResult);
        },
        error: (error) => finish('error', error),
        complete: () => finish('complete'),
      },
    );
  });
}

/** Judges what a graphql-ws operation got back and counts it. */
export function checkWs(op: Op, out: WsOutcome, stats: Stats): Verdict {
  const problems: string[] = [];
  let mutating = false;
  let hadErrors = false;
  if (out.how === 'timeout' && op.kind !== 'subscription') problems.push(`no answer within ${WS_ANSWER_TIMEOUT_MS} ms`);
  if (out.how === 'error') {
    hadErrors = true;
    if (Array.isArray(out.error)) checkErrors(out.error, stats, problems);
    else {
      const e = out.error as { code?: number; reason?: string; message?: string };
      problems.push(`the socket failed: ${e?.code ?? ''} ${e?.reason ?? e?.message ?? String(out.error)}`);
    }
  }
  for (const result of out.results) {
    if (result.errors !== undefined) hadErrors = true;
    checkErrors(result.errors, stats, problems);
    if (rootAccepted(op.query, result.data)) mutating = true;
  }
  const verdict = { mutating, problems };
  tally(stats, verdict, hadErrors);
  return verdict;
}

/* ------------------------------------------------------------ the database */

const FINGERPRINT = `
  SELECT md5(string_agg(h, ',' ORDER BY n)) AS fp FROM (
    SELECT 1 AS n, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') AS h FROM users t
    UNION ALL SELECT 2, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') FROM rooms t
    UNION ALL SELECT 3, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') FROM room_members t
    UNION ALL SELECT 4, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') FROM messages t
    UNION ALL SELECT 5, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') FROM message_reactions t
    UNION ALL SELECT 6, coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '') FROM attachments t
  ) x`;

/** A hash of every stored user, room, membership, message, reaction and attachment. */
export async function fingerprint(server: TestServer): Promise<string> {
  const rows = await server.app.db.query<{ fp: string }>(FINGERPRINT);
  return rows[0].fp;
}

/** How many rows each fingerprinted table holds. */
export async function rowCounts(server: TestServer): Promise<Record<string, number>> {
  const rows = await server.app.db.query<Record<string, number>>(
    `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM rooms)::int AS rooms,
            (SELECT count(*) FROM room_members)::int AS room_members, (SELECT count(*) FROM messages)::int AS messages,
            (SELECT count(*) FROM message_reactions)::int AS message_reactions, (SELECT count(*) FROM attachments)::int AS attachments`,
  );
  return rows[0];
}

/** Judges one batch: the problems of its operations, and of its rows (see `batchJudge`). */
export type JudgeBatch = (ops: Op[], verdicts: Verdict[]) => Promise<string[]>;

/**
 * Judges batches in the order they run: each operation's problems, and, for a
 * batch in which no mutation was accepted, whether the stored rows changed
 * since the previous batch (refused operations change no row).
 */
export async function batchJudge(server: TestServer, stats: Stats): Promise<JudgeBatch> {
  let last = await fingerprint(server);
  return async (ops, verdicts) => {
    const problems: string[] = [];
    let mutating = false;
    verdicts.forEach((v, i) => {
      mutating ||= v.mutating;
      for (const p of v.problems) problems.push(`${describeOp(ops[i])}\n  -> ${p}`);
    });
    const before = last;
    last = await fingerprint(server);
    if (!mutating) {
      stats.checkedBatches++;
      if (last !== before) problems.push(`stored rows changed although no operation of the batch was accepted:\n  ${ops.map(describeOp).join('\n  ')}`);
    }
    return problems;
  };
}

/* ------------------------------------------------------------ liveness */

/** The server still answers: /health is ok, a known user is served, and a new user can sign in. */
export async function expectServerAnswers(server: TestServer, known: TestUser): Promise<void> {
  const health = await fetch(server.url.replace(/\/graphql$/, '/health'));
  expect(health.status).to.equal(200);
  expect(await health.json()).to.deep.equal({ status: 'ok' });
  const me = await ok<{ me: { id: string } }>(server.url, '{ me { id } }', {}, known.token);
  expect(me.me.id).to.equal(known.id);
  const fresh = await signIn(server.url, await makeUser({ name: 'After the storm' }));
  const data = await ok<{ me: { id: string } }>(server.url, '{ me { id } }', {}, fresh.token);
  expect(data.me.id).to.equal(fresh.id);
}
