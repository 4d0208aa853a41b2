import express, { type RequestHandler, type Router } from 'express';
import { contentDisposition } from '../chat/attachments/attachment-store';
import type { Attachment } from '../chat/attachments/attachment.entity';
import type { LocalStore, UploadResult } from '../storage/local-store';

export interface LocalFilesOptions {
  store: LocalStore;
  /** The attachment a GET may serve (sent, its message not deleted), or null. */
  servable: (id: string) => Promise<Attachment | null>;
  /** Whether a PUT may store bytes for the id: its upload is reserved and unsent. */
  uploadable: (id: string) => Promise<boolean>;
}

const UPLOAD_STATUS: Record<Exclude<UploadResult, 'stored'>, [number, string]> = {
  'bad-signature': [403, 'This upload URL is not valid'],
  expired: [403, 'This upload URL has expired; ask createUpload for a new one'],
  'wrong-type': [400, 'Content-Type must be the contentType given to createUpload'],
  'too-large': [413, 'The body is larger than the size given to createUpload'],
  'wrong-size': [400, 'The body is not the size given to createUpload'],
  exists: [409, 'This file was uploaded already, or is being uploaded'],
  gone: [410, 'This upload is no longer waiting for its bytes (sent in a message since, or expired unsent)'],
};

const query = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * The local store's two routes (src/storage/local-store.ts): PUT /uploads/<id>
 * takes a file's bytes and GET /files/<id> serves them, each only with a URL the
 * store signed and not yet expired. A file is served only while its message
 * stands (a deleted message's files answer 404 at once, whatever URL was
 * given), with headers that keep it from running as a page of this origin.
 */
export function localFileRoutes({ store, servable, uploadable }: LocalFilesOptions, allowOrigins: RequestHandler): Router {
  const router = express.Router();
  router.use(['/uploads', '/files'], allowOrigins);

  router.put('/uploads/:id', async (req, res, next) => {
    try {
      const result = await store.acceptUpload(
        { id: req.params.id, expires: query(req.query.expires), signature: query(req.query.signature), size: query(req.query.size), type: query(req.query.type) },
        req.headers['content-type'],
        req,
        uploadable,
      );
      if (result === 'stored') {
        res.status(200).json({ status: 'stored' });
        return;
      }
      const [status, error] = UPLOAD_STATUS[result];
      // The rest of a refused body is not read: close the connection after answering.
      res.status(status).set('connection', 'close').json({ error });
    } catch (error) {
      next(error);
    }
  });

  router.get('/files/:id', async (req, res, next) => {
    try {
      const id = req.params.id;
      const verdict = store.verifyDownload({ id, expires: query(req.query.expires), signature: query(req.query.signature) });
      if (verdict !== 'ok') {
        res.status(403).json({ error: verdict === 'expired' ? 'This download URL has expired; read Message.attachments again for a new one' : 'This download URL is not valid' });
        return;
      }
      const attachment = await servable(id);
      if (!attachment) {
        res.status(404).json({ error: 'No such file' });
        return;
      }
      res.set({
        'content-type': attachment.contentType,
        'content-length': String(attachment.size),
        'content-disposition': contentDisposition(attachment.filename, attachment.contentType),
        'x-content-type-options': 'nosniff',
        // Even a file a browser would render runs nothing and loads nothing.
        'content-security-policy': "default-src 'none'; sandbox",
        'cache-control': 'private, max-age=60',
      });
      const file = store.openFile(id);
      file.on('error', (error: NodeJS.ErrnoException) => {
        if (res.headersSent) res.destroy(error);
        // Swept between the look-up and the read: gone, as for a deleted message.
        else if (error.code === 'ENOENT') res.status(404).set('content-length', undefined).json({ error: 'No such file' });
        else next(error);
      });
      file.pipe(res);
    } catch (error) {
      next(error);
    }
  });
  // An upload the client abandoned, or a disk error: a plain 500 with no details (the request log has the error).
  // A request Express could not read (a malformed escape in the path) is the client's: its own status, 400.
  router.use(((error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: 'The request could not be read' });
      return;
    }
    res.status(500).json({ error: 'The file could not be stored or read' });
  }) as express.ErrorRequestHandler);
  return router;
}
