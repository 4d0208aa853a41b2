import { createHash, timingSafeEqual } from 'node:crypto';
import { BadInputError } from '../errors';

/** 16 hex digits of the version, a dot, 16 base64url characters of its tag. */
const CURSOR = /^([0-9a-f]{16})\.([A-Za-z0-9_-]{16})$/;
const MAX_VERSION = 2n ** 63n - 1n;

/**
 * Versions as clients see them: opaque strings, `Message.version` and
 * `ChangeBatch.cursor` alike. The version in fixed-width hex (so two strings
 * compare as their versions do) and a keyed tag, so a cursor the server did not
 * give (forged, edited, from another deployment) is refused as BAD_USER_INPUT:
 * not that it would reveal anything (the feed only ever shows the caller's own
 * rooms), but a client passing one has a bug worth hearing about.
 */
export class CursorCodec {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHash('sha256').update(`chat-api cursor key\u0000${secret}`).digest();
  }

  encode(version: string | bigint): string {
    const hex = BigInt(version).toString(16).padStart(16, '0');
    return `${hex}.${this.tag(hex)}`;
  }

  /** The version a cursor names; BAD_USER_INPUT (naming `what`) for anything this server did not give. */
  decode(cursor: unknown, what: string): string {
    const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
    const expected = match ? Buffer.from(this.tag(match[1])) : null;
    if (!match || !expected || !timingSafeEqual(expected, Buffer.from(match[2])) || BigInt(`0x${match[1]}`) > MAX_VERSION) {
      throw new BadInputError(`${what} must be a cursor this API gave (a Message.version or a ChangeBatch.cursor)`);
    }
    return BigInt(`0x${match[1]}`).toString();
  }

  private tag(hex: string): string {
    return createHash('sha256').update(this.key).update(hex).digest('base64url').slice(0, 16);
  }
}
