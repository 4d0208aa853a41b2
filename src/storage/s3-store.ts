import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { contentDisposition, type AttachmentStore, type PresignedUpload } from '../chat/attachments/attachment-store';
import { encodeRfc3986, S3GetPresigner, type PresignTarget } from './sigv4-presign';

export interface S3Settings {
  /** S3_ENDPOINT: where the API reaches the store (`http://minio:9000`); unset: AWS itself. */
  endpoint: string | undefined;
  /** S3_PUBLIC_ENDPOINT: where clients reach it, for the URLs they are given. @default endpoint */
  publicEndpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Seconds from now to `at`, at least 1 (a presigned URL needs a positive lifetime). */
const secondsUntil = (at: Date) => Math.max(1, Math.floor((at.getTime() - Date.now()) / 1000));

/**
 * S3-compatible object storage (AWS S3, MinIO, ...), through the AWS SDK. The
 * bytes go straight between the client and the store: the API presigns a PUT
 * (its Content-Type and Content-Length inside the signature, so the store
 * refuses another size) and a GET per object, and asks the store what arrived.
 */
export class S3Store implements AttachmentStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  /** Signs the upload URLs clients use: the same keys, the host clients see. */
  private readonly signer: S3Client;
  /** Signs download URLs, many per page, in microseconds (src/storage/sigv4-presign.ts). */
  private readonly downloads: S3GetPresigner;
  /** Where clients GET objects: path-style on a given endpoint, virtual-hosted on AWS. */
  private readonly publicBase: Omit<PresignTarget, 'path' | 'region' | 'accessKeyId' | 'secretAccessKey'> & { prefix: string };

  constructor(private readonly settings: S3Settings) {
    const base = {
      region: settings.region,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // MinIO and most S3-compatible servers serve buckets as paths, not host names.
      forcePathStyle: settings.endpoint !== undefined,
    };
    this.client = new S3Client({ ...base, endpoint: settings.endpoint });
    this.signer = new S3Client({ ...base, endpoint: settings.publicEndpoint ?? settings.endpoint });
    this.downloads = new S3GetPresigner({ accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey, region: settings.region });
    const endpoint = settings.publicEndpoint ?? settings.endpoint;
    if (endpoint) {
      const url = new URL(endpoint);
      this.publicBase = { protocol: url.protocol, host: url.host, prefix: `${url.pathname.replace(/\/$/, '')}/${encodeRfc3986(settings.bucket)}` };
    } else {
      this.publicBase = { protocol: 'https:', host: `${settings.bucket}.s3.${settings.region}.amazonaws.com`, prefix: '' };
    }
  }

  /** Creates the bucket when it is missing (a fresh MinIO has none). */
  close(): void {
    this.client.destroy();
    this.signer.destroy();
  }

  async prepare(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.settings.bucket }));
    } catch (error) {
      if (!notFound(error)) throw error;
      await this.client.send(new CreateBucketCommand({ Bucket: this.settings.bucket }));
    }
  }

  async presignUpload(key: string, file: { contentType: string; size: number; expiresAt: Date }): Promise<PresignedUpload> {
    const command = new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, ContentType: file.contentType, ContentLength: file.size });
    const url = await getSignedUrl(this.signer, command, {
      expiresIn: secondsUntil(file.expiresAt),
      signableHeaders: new Set(['content-type', 'content-length']),
    });
    return { url, method: 'PUT', headers: { 'Content-Type': file.contentType } };
  }

  async downloadUrl(key: string, file: { filename: string; contentType: string; expiresAt: Date }): Promise<string> {
    const { protocol, host, prefix } = this.publicBase;
    const path = `${prefix}/${key.split('/').map(encodeRfc3986).join('/')}`;
    const overrides = { 'response-content-type': file.contentType, 'response-content-disposition': contentDisposition(file.filename, file.contentType) };
    return this.downloads.presign({ protocol, host, path }, overrides, secondsUntil(file.expiresAt));
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  }

  async readHead(key: string, bytes: number): Promise<Buffer | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
      const body = object.Body ? Buffer.from(await object.Body.transformToByteArray()) : Buffer.alloc(0);
      // A server that ignores Range sends everything: keep what was asked for.
      return body.subarray(0, bytes);
    } catch (error) {
      if (notFound(error)) return null;
      throw error;
    }
  }

  async remove(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const result = await this.client.send(
      new DeleteObjectsCommand({ Bucket: this.settings.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
    );
    if (result.Errors?.length) throw new Error(`The store kept ${result.Errors.length} of ${keys.length} objects: ${result.Errors[0].Code} ${result.Errors[0].Message}`);
  }
}

function notFound(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey' || error.name === 'NoSuchBucket');
}
