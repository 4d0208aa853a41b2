import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * One HTTP request and its response as node:http gives them, with the two
 * things the GraphQL route adds: the parsed body, and `locals` (what the
 * route's steps learn of the request: its caller, its observation). Express's
 * own request and response are these too, so a step runs under Express or
 * straight from the server's listener alike.
 */
export type HttpRequest = IncomingMessage & { body?: unknown };
export type HttpResponse = ServerResponse & { locals: Record<string, unknown> };
export type Next = (error?: unknown) => void;
export type Step = (req: HttpRequest, res: HttpResponse, next: Next) => unknown;
export type ErrorStep = (error: unknown, req: HttpRequest, res: HttpResponse) => void;

/** The request's query string with its `?` (`?query=...`), or '' when it has none. */
export function searchOf(req: HttpRequest): string {
  const url = req.url ?? '';
  const start = url.indexOf('?');
  return start < 0 ? '' : url.slice(start);
}

/** The request's query-string parameters (a GET's `query`, `operationName`, `variables`, `extensions`). */
export function searchParams(req: HttpRequest): URLSearchParams {
  return new URLSearchParams(searchOf(req));
}

/** Answers with a JSON body (and any extra headers), as Express's `res.status(s).json(body)` would. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
}

/** Answers with a text body already made; Node adds its Content-Length. */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: Record<string, string> = {}): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  for (const name in headers) res.setHeader(name, headers[name]);
  res.end(text);
}

/**
 * Runs `steps` in order, each handing on with `next()` (Express's middleware
 * contract, which each step keeps): a step that throws, rejects or calls
 * `next(error)` ends the run in `onError`; past the last step, `done`.
 */
export function runSteps(steps: Step[], onError: ErrorStep): (req: HttpRequest, res: HttpResponse, done: Next) => void {
  return (req, res, done) => {
    res.locals ??= Object.create(null) as Record<string, unknown>;
    let index = 0;
    const next: Next = (error) => {
      if (error !== undefined && error !== null) return onError(error, req, res);
      const step = steps[index++];
      if (!step) return done();
      try {
        const result = step(req, res, next);
        if (result instanceof Promise) result.catch(next);
      } catch (thrown) {
        next(thrown);
      }
    };
    next();
  };
}
