/**
 * Where attachments' bytes live: S3-compatible object storage (src/storage/s3-store.ts)
 * or the API's own disk (src/storage/local-store.ts). The service decides who may
 * do what; a store only signs URLs, reports what arrived and removes files.
 * Keys are made from attachment ids alone (`keyOf`), so nothing a client writes
 * ever reaches a path or an object name.
 */
export interface AttachmentStore {
  /** `s3` or `local`, for logs and /ready. */
  readonly kind: string;
  /** A URL the client PUTs the bytes to, with the headers it must send, valid until `expiresAt`. */
  presignUpload(key: string, file: { contentType: string; size: number; expiresAt: Date }): Promise<PresignedUpload>;
  /** The stored object's size, or null when nothing was uploaded there. */
  stat(key: string): Promise<{ size: number } | null>;
  /** The first `bytes` bytes of the object (fewer when it is shorter), or null when it is absent. */
  readHead(key: string, bytes: number): Promise<Buffer | null>;
  /** A GET URL for this object only, valid until `expiresAt`, that names the file when saved. */
  downloadUrl(key: string, file: { filename: string; contentType: string; expiresAt: Date }): Promise<string>;
  /** Removes the objects; absent ones are not an error. */
  remove(keys: readonly string[]): Promise<void>;
  /** Makes the store usable (creates the bucket or the folder); called once at start. */
  prepare(): Promise<void>;
  /** Lets go of what it holds open (an S3 client's sockets); called once at shutdown. */
  close(): void;
}

export interface PresignedUpload {
  url: string;
  method: 'PUT';
  /** Headers the upload must carry exactly (the signature covers them). */
  headers: Record<string, string>;
}

/** The object key of an attachment: its id, under one prefix. */
export function keyOf(attachmentId: string): string {
  return `attachments/${attachmentId}`;
}

/** Image types a browser may show inline; anything else is served as a download. */
export const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/**
 * `Content-Disposition` for a stored file: inline for the image types above
 * (a browser renders them and nothing else), a download for everything else, so
 * an uploaded HTML or SVG page never runs in the API's (or the bucket's) origin.
 * The name as RFC 6266 asks: an ASCII fallback and the UTF-8 original.
 */
export function contentDisposition(filename: string, contentType: string): string {
  const kind = INLINE_IMAGE_TYPES.has(contentType) ? 'inline' : 'attachment';
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
