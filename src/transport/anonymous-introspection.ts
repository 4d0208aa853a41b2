import { LRUCache } from 'lru-cache';
import { type HttpRequest, type HttpResponse, searchParams, sendJson, sendText, type Step } from './exchange';

/** How many anonymous introspection documents not seen before a server computes per second, and at once. */
export interface AnonymousAllowance {
  /** @default 2 */
  perSecond: number;
  /** @default 10 */
  burst: number;
}

const DEFAULT_ALLOWANCE: AnonymousAllowance = { perSecond: 2, burst: 10 };

/** The request's document, operation and variables: what its answer depends on (nothing else, without a token). */
function documentKey(req: HttpRequest): string {
  if (req.method === 'GET') {
    const search = searchParams(req);
    return JSON.stringify([search.get('query'), search.get('operationName'), search.get('variables')]);
  }
  const body = req.body as { query?: unknown; operationName?: unknown; variables?: unknown } | undefined;
  return JSON.stringify([body?.query ?? null, body?.operationName ?? null, body?.variables ?? null]);
}

/** Where a request lets its successful answer be kept (set by the allowance, called by whoever writes the answer). */
const KEEP_ANSWER = 'keepAnswer';

/** The request's way to keep its answer, when it has one. */
export function keptAnswer(res: HttpResponse): ((answer: string) => void) | undefined {
  return res.locals[KEEP_ANSWER] as ((answer: string) => void) | undefined;
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
export function anonymousIntrospection(allowance: AnonymousAllowance = DEFAULT_ALLOWANCE): Step {
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
  return (req, res, next) => {
    const key = documentKey(req);
    const known = answers.get(key);
    if (known !== undefined) {
      sendText(res, 200, 'application/json; charset=utf-8', known);
      return;
    }
    if (!take()) {
      const retryAfter = Math.max(1, Math.ceil((1 - tokens) / allowance.perSecond));
      sendJson(
        res,
        429,
        {
          errors: [
            {
              message: `Anonymous introspection: at most ${allowance.perSecond} new documents per second; send a token, or retry in ${retryAfter}s`,
              extensions: { code: 'RATE_LIMITED', retryAfter },
            },
          ],
        },
        { 'retry-after': String(retryAfter) },
      );
      return;
    }
    // Apollo's successful answer is kept for the next asker (src/transport/graphql-route.ts writes it).
    res.locals[KEEP_ANSWER] = (answer: string) => answers.set(key, answer);
    next();
  };
}
