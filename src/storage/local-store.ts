import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, link, mkdir, open, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { AttachmentStore, PresignedUpload } from '../chat/attachments/attachment-store';

/** The only keys this store takes: `attachments/<uuid>`. Anything else never reaches the disk. */
const KEY = /^attachments\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface LocalStoreOptions {
  /** The folder files are kept in. @default ./data/uploads (Config.uploadDir) */
  dir: string;
  /** Signs the URLs (derived from it, so it is never used as is). */
  secret: string;
  /** Where clients reach this API (`http://localhost:4000`): known only once the server listens. */
  baseUrl: () => string;
}

/** A request the routes of src/transport/files.ts hand over, already read from the URL. */
export interface SignedRequest {
  id: string;
  expires: string | undefined;
  signature: string | undefined;
}

export type UploadResult = 'stored' | 'expired' | 'bad-signature' | 'too-large' | 'wrong-size' | 'wrong-type' | 'exists' | 'gone';

/**
 * Files on the API's own disk, for `npm start` with nothing else: the API
 * serves PUT /uploads/<id> and GET /files/<id> (src/transport/files.ts), each
 * honoured only with a URL this store signed (HMAC-SHA256, with its expiry and,
 * for an upload, the declared size and type inside the signature). A file is
 * written once: it lands under its final name only when every declared byte
 * arrived, and a second upload to the same id is refused.
 */
export class LocalStore implements AttachmentStore {
  readonly kind = 'local';
  private readonly key: Buffer;

  constructor(private readonly options: LocalStoreOptions) {
    this.key = createHmac('sha256', options.secret).update('chat-api attachment URLs').digest();
  }

  async prepare(): Promise<void> {
    await mkdir(join(this.options.dir, '.incoming'), { recursive: true });
  }

  /** Nothing held open: files are opened per request. */
  close(): void {}

  async presignUpload(key: string, file: { contentType: string; size: number; expiresAt: Date }): Promise<PresignedUpload> {
    const id = idOf(key);
    const expires = String(Math.floor(file.expiresAt.getTime() / 1000));
    const query = new URLSearchParams({ expires, size: String(file.size), type: file.contentType });
    query.set('signature', this.sign(['PUT', id, expires, String(file.size), file.contentType]));
    return { url: `${this.options.baseUrl()}/uploads/${id}?${query}`, method: 'PUT', headers: { 'Content-Type': file.contentType } };
  }

  async downloadUrl(key: string, file: { expiresAt: Date }): Promise<string> {
    const id = idOf(key);
    const expires = String(Math.floor(file.expiresAt.getTime() / 1000));
    return `${this.options.baseUrl()}/files/${id}?expires=${expires}&signature=${this.sign(['GET', id, expires])}`;
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      return { size: (await stat(this.pathOf(idOf(key)))).size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async readHead(key: string, bytes: number): Promise<Buffer | null> {
    let handle;
    try {
      handle = await open(this.pathOf(idOf(key)), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const buffer = Buffer.alloc(bytes);
      const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async remove(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.pathOf(idOf(key)), { force: true })));
  }

  /** Whether a GET URL is one this store signed and still valid: the route answers 403 otherwise. */
  verifyDownload(request: SignedRequest): 'ok' | 'expired' | 'bad-signature' {
    if (!ID.test(request.id) || request.expires === undefined || request.signature === undefined) return 'bad-signature';
    if (!this.signatureMatches(['GET', request.id, request.expires], request.signature)) return 'bad-signature';
    return expired(request.expires) ? 'expired' : 'ok';
  }

  /** The stored file, for the route to stream (after verifyDownload and the service's say-so). */
  openFile(id: string): Readable {
    return createReadStream(this.pathOf(id));
  }

  /**
   * Stores an upload's body if its URL is signed, unexpired, and the body is
   * exactly the declared size and type. Bytes past the declared size are not
   * read, let alone written.
   */
  async acceptUpload(
    request: SignedRequest & { size: string | undefined; type: string | undefined },
    contentType: string | undefined,
    body: Readable,
    uploadable: (id: string) => Promise<boolean> = async () => true,
  ): Promise<UploadResult> {
    const { id, expires, signature, size, type } = request;
    if (!ID.test(id) || expires === undefined || signature === undefined || size === undefined || type === undefined) return 'bad-signature';
    if (!this.signatureMatches(['PUT', id, expires, size, type], signature)) return 'bad-signature';
    if (expired(expires)) return 'expired';
    if (contentType !== type) return 'wrong-type';
    const declared = Number(size);
    const final = this.pathOf(id);
    if (await this.stat(`attachments/${id}`)) return 'exists';
    if (!(await uploadable(id))) return 'gone';
    // One upload of an id at a time: the incoming name is the id, created exclusively, so a second PUT while the first
    // is still sending is refused at once instead of filling the disk with another copy.
    const incoming = join(this.options.dir, '.incoming', id);
    let file: FileHandle;
    try {
      file = await open(incoming, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw error;
    }
    let received = 0;
    let tooLarge = false;
    try {
      await pipeline(
        body,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            received += chunk.length;
            if (received > declared) {
              tooLarge = true;
              throw new Error('upload larger than declared');
            }
            yield chunk;
          }
        },
        file.createWriteStream(),
      );
      if (received !== declared) return 'wrong-size';
      // link() fails when the name exists: of two uploads racing to one id, one wins, whole.
      await link(incoming, final);
      return 'stored';
    } catch (error) {
      if (tooLarge) return 'too-large';
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return 'exists';
      throw error;
    } finally {
      await file.close().catch(() => {});
      await unlink(incoming).catch(() => {});
    }
  }

  private pathOf(id: string): string {
    if (!ID.test(id)) throw new Error(`Not an attachment id: ${JSON.stringify(id)}`);
    return join(this.options.dir, id);
  }

  private sign(parts: string[]): string {
    return createHmac('sha256', this.key).update(parts.join('\n')).digest('base64url');
  }

  private signatureMatches(parts: string[], signature: string): boolean {
    const expected = Buffer.from(this.sign(parts));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function idOf(key: string): string {
  const match = KEY.exec(key);
  if (!match) throw new Error(`Not an attachment key: ${JSON.stringify(key)}`);
  return match[1];
}

function expired(expires: string): boolean {
  return !/^\d{1,12}$/.test(expires) || Number(expires) * 1000 <= Date.now();
}
