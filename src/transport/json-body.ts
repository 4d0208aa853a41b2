import express from 'express';
import { AsyncResource } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import type { Step } from './exchange';

/** The Content-Types a client's JSON POST carries almost always: read without body-parser's generality. */
const PLAIN_JSON = new Set(['application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8']);

/** A body that is not JSON (what body-parser raises, so one handler answers both). */
class BodySyntaxError extends Error {
  readonly status = 400;
  readonly type = 'entity.parse.failed';
}

function plainJson(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  const encoding = headers['content-encoding'];
  return (
    type !== undefined &&
    PLAIN_JSON.has(type.toLowerCase()) &&
    (encoding === undefined || encoding.toLowerCase() === 'identity') &&
    headers['content-length'] !== undefined
  );
}

/**
 * JSON as body-parser's strict `express.json()` reads it: an object or an
 * array (an empty body is `{}`), a leading byte-order mark dropped. Whatever
 * else it is, it is not JSON here.
 */
function parseStrict(text: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (body.length === 0) return {};
  const first = body[0] === '{' || body[0] === '[' ? body[0] : body.trimStart()[0];
  if (first !== '{' && first !== '[') throw new BodySyntaxError('Request body is not a JSON object or array');
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new BodySyntaxError((error as Error).message);
  }
}

/**
 * The request body of a GraphQL POST, at most `limitBytes`. The common case,
 * UTF-8 JSON of a declared length sent uncompressed, is read here in a few
 * lines (body-parser's stream decoding, charset and type parsing were a tenth
 * of a history page's CPU); anything else (another charset, a compressed or
 * chunked body, a body over the limit: 413) goes through `express.json()` as before.
 */
export function jsonBody(limitBytes: number): Step {
  const general = express.json({ limit: limitBytes });
  return (req, res, next) => {
    if (req.method !== 'POST' || !plainJson(req.headers) || !(Number(req.headers['content-length']) <= limitBytes)) {
      return general(req as never, res as never, next);
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('error', AsyncResource.bind(next));
    // The rest of the request runs in the context it began in (its trace span), not the socket's.
    req.once(
      'end',
      AsyncResource.bind(() => {
        try {
          req.body = parseStrict((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8'));
        } catch (error) {
          return next(error);
        }
        next();
      }),
    );
  };
}
