import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature Version 4 for a presigned S3 GET (query-string authentication),
 * with node:crypto and the day's signing key kept. The SDK's getSignedUrl costs
 * about 1 ms of CPU per URL (its middleware stack and endpoint resolution run
 * for each) and its bare presigner about 0.2 ms: a history page of 200 messages
 * with 10 files each would spend 0.4-2 s of the event loop on URLs. This costs
 * a few microseconds. test/attachments.test.ts holds it to the SDK's presigner:
 * the same request signed at the same instant gives the same signature.
 */
export interface PresignTarget {
  /** `http:` or `https:`, and the host (with a port when not the default) clients reach. */
  protocol: string;
  host: string;
  /** The object's path, each segment already URI-encoded (`/bucket/key` or `/key`). */
  path: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
export const encodeRfc3986 = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

export class S3GetPresigner {
  /** The signing key of one (day, secret, region): four HMACs, once a day. */
  private key: { day: string; value: Buffer } | null = null;

  constructor(private readonly credentials: { accessKeyId: string; secretAccessKey: string; region: string }) {}

  /** A GET URL of `target.path` valid for `expiresIn` seconds from `now`, with these `response-*` overrides signed in. */
  presign(target: Omit<PresignTarget, 'region' | 'accessKeyId' | 'secretAccessKey'>, query: Record<string, string>, expiresIn: number, now = new Date()): string {
    const { accessKeyId, secretAccessKey, region } = this.credentials;
    const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, ''); // 20261204T160000Z
    const day = amzDate.slice(0, 8);
    const scope = `${day}/${region}/s3/aws4_request`;
    const params: Record<string, string> = {
      ...query,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD',
      'X-Amz-Credential': `${accessKeyId}/${scope}`,
      'X-Amz-Date': amzDate,
      'X-Amz-Expires': String(expiresIn),
      'X-Amz-SignedHeaders': 'host',
    };
    const canonicalQuery = Object.keys(params)
      .map((name) => [encodeRfc3986(name), encodeRfc3986(params[name])])
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const canonicalRequest = `GET\n${target.path}\n${canonicalQuery}\nhost:${target.host}\n\nhost\nUNSIGNED-PAYLOAD`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
    if (this.key?.day !== day) {
      this.key = { day, value: hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), 's3'), 'aws4_request') };
    }
    const signature = createHmac('sha256', this.key.value).update(stringToSign, 'utf8').digest('hex');
    return `${target.protocol}//${target.host}${target.path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
  }
}
