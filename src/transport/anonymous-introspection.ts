import type { Request, RequestHandler, Response } from 'express';
import { LRUCache } from 'lru-cache';

/** How many anonymous introspection documents not seen before a server computes per second, and at once. */
export interface AnonymousAllowance {
  /** @default 2 */
  perSecond: number;
  /** @default 10 */
  burst: number;
}

const DEFAULT_ALLOWANCE: AnonymousAllowance = { perSecond: 2, burst: 10 };

/** The request's document, operation and variables: what its answer depends on (nothing else, without a token). */
function documentKey(req: Request): string {
  const source = (req.method === 'GET' ? req.query : req.body) as { query?: unknown; operationName?: unknown; variables?: unknown } | undefined;
  return JSON.stringify([source?.query ?? null, source?.operationName ?? null, source?.variables ?? null]);
}

/**
 * Outside production a document of introspection fields alone may come
 * without a token (Apollo Sandbox loads the schema before one is set). It is
 * held to the limits of any document (depth, aliases, cost), and beyond them:
 * its answer is kept (the schema does not change while the server runs), so
 * the same document asked again costs a look-up; and a document not seen
 * before is computed only while the server's small allowance lasts (a token
 * bucket), RATE_LIMITED beyond it. So anonymous clients cost nothing but the
 * token check, however many of them and whatever they send.
 */
export function anonymousIntrospection(allowance: AnonymousAllowance = DEFAULT_ALLOWANCE): RequestHandler {
  const answers = new LRUCache<string, string>({ max: 64, maxSize: 16 * 1024 * 1024, sizeCalculation: (answer, key) => answer.length + key.length });
  let tokens = allowance.burst;
  let filledAt = Date.now();
  const take = (): boolean => {
    const now = Date.now();
    tokens = Math.min(allowance.burst, tokens + ((now - filledAt) / 1000) * allowance.perSecond);
    filledAt = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  return (req: Request, res: Response, next) => {
    const key = documentKey(req);
    const known = answers.get(key);
    if (known !== undefined) {
      res.status(200).type('application/json; charset=utf-8').send(known);
      return;
    }
    if (!take()) {
      const retryAfter = Math.max(1, Math.ceil((1 - tokens) / allowance.perSecond));
      res
        .status(429)
        .set('retry-after', String(retryAfter))
        .json({
          errors: [
            {
              message: `Anonymous introspection: at most ${allowance.perSecond} new documents per second; send a token, or retry in ${retryAfter}s`,
              extensions: { code: 'RATE_LIMITED', retryAfter },
            },
          ],
        });
      return;
    }
    // Apollo answers a complete body with res.send(string): keep a successful one for the next asker.
    const send = res.send.bind(res);
    res.send = ((body: unknown) => {
      if (res.statusCode === 200 && typeof body === 'string') answers.set(key, body);
      return send(body);
    }) as Response['send'];
    next();
  };
}
