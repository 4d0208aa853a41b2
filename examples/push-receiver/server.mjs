// A push service's front door for the chat API's webhooks: it verifies each
// delivery's signature, drops repeats (delivery is at least once), and logs the
// push it would send for a new message to the members who were offline.
// No dependencies: Node's http and crypto.
//   WEBHOOK_SECRET=change-me PORT=4100 node server.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.WEBHOOK_SECRET;
if (!secret) {
  console.error('Set WEBHOOK_SECRET to the chat API\'s WEBHOOK_SECRET');
  process.exit(1);
}
const port = Number(process.env.PORT ?? 4100);
/** A signed timestamp older or newer than this is a replay (or a clock to fix). */
const TOLERANCE_SECONDS = 300;
/** Ids seen lately: a retried delivery is acknowledged, not pushed twice. */
const seen = new Set();
const SEEN_MAX = 10_000;

/** X-Chat-Signature is sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">. */
export function verify(timestamp, rawBody, signature, nowSeconds = Math.floor(Date.now() / 1000)) {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function remember(id) {
  if (seen.has(id)) return false;
  seen.add(id);
  // Oldest first out: a Set iterates in insertion order.
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value);
  return true;
}

/** What the push would say: the sender, and the first words of the message. */
function preview(message) {
  const text = message.content ?? '';
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

const server = createServer((req, res) => {
  if (req.method !== 'POST') return res.writeHead(405).end();
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > 1024 * 1024) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    if (!verify(req.headers['x-chat-timestamp'], raw, req.headers['x-chat-signature'])) {
      console.warn('refused: bad or missing signature');
      return res.writeHead(401).end();
    }
    const event = JSON.parse(raw);
    // 2xx for a repeat too: the API stops retrying it.
    if (!remember(event.id)) return res.writeHead(204).end();
    if (event.type === 'message.created') {
      const { message, offlineMemberIds = [], mentionIds = [] } = event.data;
      for (const userId of offlineMemberIds) {
        const loud = mentionIds.includes(userId) ? ' (mentioned)' : '';
        console.log(`push to ${userId}${loud}: room ${event.roomId}, from ${message.senderId}: ${JSON.stringify(preview(message))}`);
      }
    } else {
      console.log(`${event.type} in room ${event.roomId}: nothing to push`);
    }
    res.writeHead(204).end();
  });
});

server.listen(port, () => console.log(`push receiver on http://127.0.0.1:${server.address().port}/webhooks`));
