import { imageSize } from 'image-size';
import type { Access } from '../access/access';
import { Permission } from '../access/permissions';
import type { Actor } from '../actor';
import type { ChatRepositories } from '../chat-repositories';
import { BadInputError, ChatError, ServiceUnavailableError } from '../errors';
import type { RateLimiter } from '../limits/rate-limiter';
import { MessageType, RateLimitedAction } from '../types';
import { requireIntInRange, requireLength, requireUuid } from '../validation';
import type { Attachment } from './attachment.entity';
import { keyOf, type AttachmentStore } from './attachment-store';

/** Attachments one message may carry. */
export const MAX_ATTACHMENTS = 10;
export const FILENAME_LENGTH = { min: 1, max: 255 };
/** Bytes of an image read to find its width and height (a JPEG's size marker may follow a large EXIF block). */
const IMAGE_HEAD_BYTES = 128 * 1024;

export interface AttachmentSettings {
  /** MAX_UPLOAD_BYTES. @default 26214400 (25 MiB) */
  maxBytes: number;
  /** How long an upload URL works. @default 900 (15 minutes) */
  uploadUrlSeconds: number;
  /** How long a download URL works. @default 900 (15 minutes) */
  downloadUrlSeconds: number;
  /** How long an upload that no message names is kept. @default 86400 (a day) */
  unsentKeptSeconds: number;
}

export const DEFAULT_ATTACHMENT_SETTINGS: AttachmentSettings = {
  maxBytes: 25 * 1024 * 1024,
  uploadUrlSeconds: 15 * 60,
  downloadUrlSeconds: 15 * 60,
  unsentKeptSeconds: 24 * 60 * 60,
};

/** What createUpload answers: where and how to send the bytes. */
export interface UploadTicket {
  attachmentId: string;
  uploadUrl: string;
  method: string;
  headers: Record<string, string>;
  expiresAt: string;
}

/** `type/subtype` as RFC 6838 spells names (no parameters). */
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
/** Separators of any file system, and control characters: a filename is a name, never a path. */
const NOT_IN_FILENAMES = /[/\\\u0000-\u001f\u007f]/;

/** A store that fails to answer is the server's trouble, not the client's: 503 "retry shortly", as for the database. */
async function fromStore<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ChatError) throw error;
    throw new ServiceUnavailableError('the attachment store', `The attachment store did not answer: ${(error as Error)?.message ?? error}`, { cause: error });
  }
}

function checkFilename(filename: string): string {
  requireLength('filename', filename, FILENAME_LENGTH.min, FILENAME_LENGTH.max);
  if (NOT_IN_FILENAMES.test(filename)) throw new BadInputError('filename must be a name without path separators (/ or \\) or control characters');
  if (filename.trim() === '' || /^\.+$/.test(filename.trim())) throw new BadInputError(`filename must name a file, got ${JSON.stringify(filename)}`);
  return filename;
}

function checkContentType(contentType: string): string {
  const type = typeof contentType === 'string' ? contentType.trim().toLowerCase() : '';
  if (!MIME_TYPE.test(type)) throw new BadInputError(`contentType must be a MIME type such as image/png, got ${JSON.stringify(String(contentType).slice(0, 40))}`);
  return type;
}

/**
 * Attachments: reserving an upload (who may, how big, how often), checking that
 * uploads may go into a message (the sender's, this room's, arrived whole, not
 * sent before), the download URLs, and removing the files of deleted messages
 * and of uploads never sent. The bytes are the store's (AttachmentStore).
 */
/** The largest side an image's width or height is taken at (PNG allows 2^31 - 1; no camera or screen comes near 100,000). */
export const MAX_IMAGE_SIDE = 100_000;

export class AttachmentService {
  constructor(
    private readonly repos: ChatRepositories,
    private readonly access: Access,
    private readonly limiter: RateLimiter,
    readonly store: AttachmentStore,
    readonly settings: AttachmentSettings,
  ) {}

  /**
   * Reserves an attachment in a room the actor may send to and presigns its
   * upload. Counts against UPLOAD_RATE_LIMIT (per user and room) whether or not
   * the bytes ever arrive: each call reserves a row and a URL.
   */
  async createUpload(actor: Actor, roomId: string, filename: string, contentType: string, size: number): Promise<UploadTicket> {
    const room = requireUuid('roomId', roomId);
    const name = checkFilename(filename);
    const type = checkContentType(contentType);
    requireIntInRange('size', size, 1, this.settings.maxBytes);
    await this.access.require(actor, Permission.SendMessage, room);
    // Per user, whatever the room: each call may reserve MAX_UPLOAD_BYTES of storage for a day, so a member of many
    // rooms must not multiply it by their number.
    await this.limiter.admit(this.repos, actor, RateLimitedAction.UPLOAD, null);
    const expiresAt = new Date(Date.now() + this.settings.uploadUrlSeconds * 1000);
    const reserved = await this.repos.attachments.reserve({
      roomId: room,
      uploaderId: actor.id,
      filename: name,
      contentType: type,
      size,
      uploadExpiresAt: expiresAt.toISOString(),
    });
    const upload = await fromStore(() => this.store.presignUpload(keyOf(reserved.id), { contentType: type, size, expiresAt }));
    return { attachmentId: reserved.id, uploadUrl: upload.url, method: upload.method, headers: upload.headers, expiresAt: expiresAt.toISOString() };
  }

  /**
   * The ids a message of `type` from the actor in `roomId` may carry, in order:
   * 1-10 distinct uploads of the actor's, for this room, not in a message yet,
   * whose bytes arrived with the declared size (images get their width and
   * height here). BAD_USER_INPUT otherwise. The send statement claims them
   * again under their row locks: of two sends naming one upload, one wins.
   * With `retry` (a send with a clientId) an upload already in a message is
   * left to the statement: the repeat of that send returns its first message,
   * any other send is refused there.
   */
  async requireSendable(actor: Actor, roomId: string, ids: readonly string[], type: MessageType, retry: boolean): Promise<string[]> {
    if (ids.length === 0) return [];
    if (ids.length > MAX_ATTACHMENTS) throw new BadInputError(`attachmentIds may name at most ${MAX_ATTACHMENTS} uploads, got ${ids.length}`);
    const wanted = ids.map((id) => requireUuid('attachmentIds', id));
    if (new Set(wanted).size !== wanted.length) throw new BadInputError('attachmentIds names an upload twice');
    const found = new Map((await this.repos.attachments.findByIds(wanted)).map((a) => [a.id, a]));
    const rows = wanted.map((id) => {
      const row = found.get(id);
      // Someone else's upload, another room's and none at all answer alike: ids are no oracle.
      if (!row || row.uploaderId !== actor.id || row.roomId !== roomId) throw new BadInputError(`attachmentIds: ${id} is not an upload of yours for this room`);
      if (row.messageId !== null && !retry) throw new BadInputError(`attachmentIds: ${id} is attached to a message already; upload the file again`);
      if (type === MessageType.IMAGE && !row.contentType.startsWith('image/')) {
        throw new BadInputError(`An IMAGE message takes image/* attachments only; ${id} is ${row.contentType}`);
      }
      return row;
    });
    await Promise.all(rows.filter((row) => row.messageId === null).map((row) => this.requireArrived(row)));
    return wanted;
  }

  /** A URL that downloads this attachment's file until it expires (at most downloadUrlSeconds from now). */
  downloadUrl(attachment: Attachment): Promise<string> {
    const expiresAt = new Date(Date.now() + this.settings.downloadUrlSeconds * 1000);
    return this.store.downloadUrl(keyOf(attachment.id), { filename: attachment.filename, contentType: attachment.contentType, expiresAt });
  }

  /** The attachment whose file a signed local URL may serve (sent, its message not deleted), or null. */
  servable(id: string): Promise<Attachment | null> {
    return this.repos.attachments.findServable(id);
  }

  /**
   * Whether the local store may take bytes for `id`: its upload is still
   * reserved and unsent. A URL still valid for a message deleted since, or an
   * upload swept, writes nothing (the file would have no row to remove it by).
   */
  uploadable(id: string): Promise<boolean> {
    return this.repos.attachments.awaitingBytes(id);
  }

  /**
   * Removes discarded attachments' files (a deleted message's, or uploads
   * never sent), then their rows. A failure leaves the rows: the sweep tries again.
   */
  async removeFiles(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.store.remove(ids.map(keyOf));
    await this.repos.attachments.deleteByIds(ids);
  }

  /** One round of the sweep: uploads no message named within unsentKeptSeconds are discarded, then every discarded file goes. */
  async sweep(batch = 500): Promise<{ discarded: number; unsent: number }> {
    const before = new Date(Date.now() - this.settings.unsentKeptSeconds * 1000).toISOString();
    const unsent = await this.repos.attachments.discardUnsent(before, batch);
    const discarded = await this.repos.attachments.findDiscarded(batch);
    await this.removeFiles(discarded);
    return { discarded: discarded.length, unsent: unsent.length };
  }

  private async requireArrived(row: Attachment): Promise<void> {
    const stored = await fromStore(() => this.store.stat(keyOf(row.id)));
    if (!stored) throw new BadInputError(`attachmentIds: ${row.id} has not been uploaded (PUT the file to its uploadUrl first)`);
    if (stored.size !== row.size) throw new BadInputError(`attachmentIds: ${row.id} has ${stored.size} bytes, but ${row.size} were declared`);
    if (row.contentType.startsWith('image/') && row.width === null) {
      const dimensions = await this.dimensionsOf(row);
      if (dimensions) await this.repos.attachments.setDimensions(row.id, dimensions.width, dimensions.height);
    }
  }

  /** Width and height from the image's header, when the format is one image-size knows, the header is whole and the sides plausible. */
  private async dimensionsOf(row: Attachment): Promise<{ width: number; height: number } | null> {
    const head = await fromStore(() => this.store.readHead(keyOf(row.id), Math.min(IMAGE_HEAD_BYTES, row.size)));
    if (!head) return null;
    try {
      const { width, height } = imageSize(head);
      // A header can claim anything (4,294,967,295 pixels wide): beyond what any real image has, the size is unknown.
      const plausible = (n: number | undefined): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= MAX_IMAGE_SIDE;
      return plausible(width) && plausible(height) ? { width, height } : null;
    } catch {
      return null; // not an image after all, or a header past what was read: "when known"
    }
  }
}
