import { createCipheriv, createDecipheriv, createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BadInputError } from '../errors';
import type { Position } from './versions';

/** A cursor: two AES blocks, base64url (43 characters); a Message.version puts the message's revision before it. */
const CURSOR = /^(?:([0-9a-f]{8})\.)?([A-Za-z0-9_-]{43})$/;
const MAX_BIGINT = 2n ** 63n - 1n;
/** How far below its transaction a floor is kept (4 bytes); a floor further down is kept at that distance, which only repeats more. */
const MAX_FLOOR_DISTANCE = 2n ** 32n - 1n;
/** Every cursor is encrypted alike (no nonce): the same position gives the same cursor, and the MAC binds the blocks. */
const IV = Buffer.alloc(16);

/**
 * Versions as clients see them: opaque strings. Each names a position in the
 * service-wide order of changes (src/chat/changes/versions.ts: a transaction
 * and a number, and its floor as a distance below the transaction), encrypted
 * (AES-256-CBC of those 20 bytes and the first 12 bytes of their HMAC), so two cursors taken around other companies' writes tell
 * nothing of how many there were, and a cursor the server did not give
 * (forged, edited, from another deployment) is refused as BAD_USER_INPUT.
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
  encode(position: Position): string {
    const block = Buffer.alloc(32);
    const xid = BigInt(position.xid);
    const distance = xid - BigInt(position.floor);
    block.writeBigUInt64BE(xid, 0);
    block.writeBigUInt64BE(BigInt(position.version), 8);
    block.writeUInt32BE(Number(distance < MAX_FLOOR_DISTANCE ? distance : MAX_FLOOR_DISTANCE), 16);
    this.tag(block.subarray(0, 20)).copy(block, 20);
    const cipher = createCipheriv('aes-256-cbc', this.cipherKey, IV).setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]).toString('base64url');
  }

  /** A message's version: its revision, then the cursor of its position. */
  encodeVersion(revision: number, position: Position): string {
    return `${revision.toString(16).padStart(8, '0')}.${this.encode(position)}`;
  }

  /** The position a cursor (or a Message.version) names; BAD_USER_INPUT (naming `what`) for anything this server did not give. */
  decode(cursor: unknown, what: string): Position {
    const match = typeof cursor === 'string' ? CURSOR.exec(cursor) : null;
    const sealed = match ? Buffer.from(match[2], 'base64url') : null;
    if (sealed?.length === 32) {
      const decipher = createDecipheriv('aes-256-cbc', this.cipherKey, IV).setAutoPadding(false);
      const block = Buffer.concat([decipher.update(sealed), decipher.final()]);
      const xid = block.readBigUInt64BE(0);
      const version = block.readBigUInt64BE(8);
      const floor = xid - BigInt(block.readUInt32BE(16));
      if (timingSafeEqual(this.tag(block.subarray(0, 20)), block.subarray(20)) && xid <= MAX_BIGINT && version <= MAX_BIGINT) {
        return { xid: xid.toString(), version: version.toString(), floor: (floor < 0n ? 0n : floor).toString() };
      }
    }
    throw new BadInputError(`${what} must be a cursor this API gave (a Message.version or a ChangeBatch.cursor)`);
  }

  private tag(position: Buffer): Buffer {
    return createHmac('sha256', this.macKey).update(position).digest().subarray(0, 12);
  }
}
