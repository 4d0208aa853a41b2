import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BadInputError } from '../errors';

/** A cursor: one AES block, base64url (22 characters); a Message.version puts the message's revision before it. */
const CURSOR = /^(?:([0-9a-f]{8})\.)?([A-Za-z0-9_-]{22})$/;
const MAX_VERSION = 2n ** 63n - 1n;

/**
 * Versions as clients see them: opaque strings. Each names a position in the
 * service-wide order of changes, encrypted (AES-256 of one block: the
 * position, and the first 8 bytes of its HMAC), so two cursors taken around
 * other companies' writes tell nothing of how many there were, and a cursor
 * the server did not give (forged, edited, from another deployment) is
 * refused as BAD_USER_INPUT.
 * - `ChangeBatch.cursor` is that block alone.
 * - `Message.version` is the message's own revision (8 hex digits: how many
 *   times it changed) and the block: the versions of one message grow, as
 *   strings, with each change to it, which is all a client compares, and
 *   either form resumes the feed as `since`.
 */
export class CursorCodec {
  private readonly cipherKey: Buffer;
  private readonly macKey: Buffer;

  constructor(secret: string) {
    this.cipherKey = createHash('sha256').update(`chat-api cursor cipher\u0000${secret}`).digest();
    this.macKey = createHash('sha256').update(`chat-api cursor tag\u0000${secret}`).digest();
  }

  /** The cursor of a position in the feed. */
  encode(version: string | bigint): string {
    const block = Buffer.alloc(16);
    block.writeBigUInt64BE(BigInt(version));
    this.tag(block.subarray(0, 8)).copy(block, 8);
    const cipher = createCipheriv('aes-256-ecb', this.cipherKey, null).setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]).toString('base64url');
  }

  /** A message's version: its revision, then the cursor of its position. */
  encodeVersion(revision: number, version: string | bigint): string {
    return `${revision.toString(16).padStart(8, '0')}.${this.encode(version)}`;
  }

  /** The position a cursor (or a Message.version) names; BAD_USER_INPUT (naming `what`) for anything this server did not give. */
  decode(cursor: unknown, what: string): string {
    const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
    const sealed = match ? Buffer.from(match[2], 'base64url') : null;
    if (sealed?.length === 16) {
      const decipher = createDecipheriv('aes-256-ecb', this.cipherKey, null).setAutoPadding(false);
      const block = Buffer.concat([decipher.update(sealed), decipher.final()]);
      const version = block.readBigUInt64BE(0);
      if (timingSafeEqual(this.tag(block.subarray(0, 8)), block.subarray(8)) && version <= MAX_VERSION) return version.toString();
    }
    throw new BadInputError(`${what} must be a cursor this API gave (a Message.version or a ChangeBatch.cursor)`);
  }

  private tag(position: Buffer): Buffer {
    return createHmac('sha256', this.macKey).update(position).digest().subarray(0, 8);
  }
}
