import { createHmac, timingSafeEqual } from 'node:crypto';

/** The headers of every delivery (BEHAVIOUR.md: Webhooks). */
export const SIGNATURE_HEADER = 'X-Chat-Signature';
export const TIMESTAMP_HEADER = 'X-Chat-Timestamp';

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with the shared secret.
 * The timestamp (Unix seconds, as sent in X-Chat-Timestamp) is signed with the
 * body, so a receiver that refuses old timestamps refuses replays too.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * True when `signature` is the one `signWebhook` gives for this timestamp and
 * body (compared in constant time) and the timestamp is within
 * `toleranceSeconds` of `nowSeconds`. What a receiver runs on the raw body,
 * before parsing it. @default toleranceSeconds 300
 */
export function verifyWebhook(
  secret: string,
  timestamp: string | null | undefined,
  body: string,
  signature: string | null | undefined,
  { toleranceSeconds = 300, nowSeconds = Math.floor(Date.now() / 1000) }: { toleranceSeconds?: number; nowSeconds?: number } = {},
): boolean {
  if (!timestamp || !signature || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
