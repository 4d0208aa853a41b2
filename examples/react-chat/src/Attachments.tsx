import { useApolloClient, useQuery } from '@apollo/client/react';
import { useEffect, useRef, useState } from 'react';
import type { MessageAttachmentsFragment } from './gql/graphql';
import { CREATE_UPLOAD, MESSAGE_ATTACHMENTS, type ChatMessage } from './operations';

/*
 * Attachments: picking files, uploading each straight to where createUpload
 * says (S3 or the API's own /uploads) with progress, and showing a message's
 * files (images previewed, every file a download link). The URLs the API gives
 * are short-lived; a message read again brings fresh ones.
 */

/** Matches the API's MAX_UPLOAD_BYTES default; the API has the last word. */
const MAX_BYTES = 25 * 1024 * 1024;
/** The API takes at most 10 per message. */
export const MAX_FILES = 10;

export interface PendingUpload {
  /** Local key (a file may be picked twice). */
  key: string;
  file: File;
  /** An object URL for images: the preview before sending. */
  preview: string | null;
  /** 0-1 while uploading. */
  progress: number;
  status: 'uploading' | 'ready' | 'failed';
  attachmentId: string | null;
  error: string | null;
}

type Ticket = { uploadUrl: string; method: string; headers: unknown };

/** PUT with XMLHttpRequest: fetch cannot report upload progress. */
function putWithProgress(ticket: Ticket, file: File, onProgress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(ticket.method, ticket.uploadUrl);
    for (const [name, value] of Object.entries((ticket.headers ?? {}) as Record<string, string>)) xhr.setRequestHeader(name, String(value));
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new Error(`the upload was refused (${xhr.status})`)));
    xhr.onerror = () => reject(new Error('the upload failed (network)'));
    xhr.send(file);
  });
}

/** The files picked for the next message of a room, each uploading as soon as it is picked. */
export function useUploads(roomId: string) {
  const client = useApolloClient();
  const [uploads, setUploads] = useState<PendingUpload[]>([]);
  const previews = useRef(new Set<string>());
  const patch = (key: string, change: Partial<PendingUpload>) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const upload = async (entry: PendingUpload) => {
    try {
      if (entry.file.size === 0 || entry.file.size > MAX_BYTES) throw new Error(`files must be 1 byte to ${MAX_BYTES / 1024 / 1024} MiB`);
      const { data } = await client.mutate({
        mutation: CREATE_UPLOAD,
        variables: { roomId, filename: entry.file.name, contentType: entry.file.type || 'application/octet-stream', size: entry.file.size },
      });
      const ticket = data!.createUpload;
      await putWithProgress(ticket, entry.file, (progress) => patch(entry.key, { progress }));
      patch(entry.key, { status: 'ready', progress: 1, attachmentId: ticket.attachmentId });
    } catch (e) {
      patch(entry.key, { status: 'failed', error: (e as Error).message });
    }
  };

  const add = (files: FileList | File[]) => {
    const room = MAX_FILES - uploads.length;
    const entries = [...files].slice(0, Math.max(0, room)).map((file): PendingUpload => {
      const preview = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
      if (preview) previews.current.add(preview);
      return { key: `${Date.now()}-${Math.random()}`, file, preview, progress: 0, status: 'uploading', attachmentId: null, error: null };
    });
    setUploads((all) => [...all, ...entries]);
    for (const entry of entries) void upload(entry);
  };
  const forget = (entry: PendingUpload) => {
    if (entry.preview) {
      URL.revokeObjectURL(entry.preview);
      previews.current.delete(entry.preview);
    }
  };
  const remove = (key: string) =>
    setUploads((all) => {
      all.filter((u) => u.key === key).forEach(forget);
      return all.filter((u) => u.key !== key);
    });
  const clear = () =>
    setUploads((all) => {
      all.forEach(forget);
      return [];
    });
  useEffect(() => () => previews.current.forEach((url) => URL.revokeObjectURL(url)), []);

  return {
    uploads,
    add,
    remove,
    clear,
    busy: uploads.some((u) => u.status === 'uploading'),
    ready: uploads.filter((u) => u.status === 'ready'),
  };
}

/** The attach button: a file input behind a paperclip. */
export function AttachButton({ testId, onFiles, disabled }: { testId: string; onFiles: (files: FileList) => void; disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid={`${testId}-attach-input`}
        onChange={(e) => {
          if (e.target.files?.length) onFiles(e.target.files);
          e.target.value = ''; // the same file can be picked again
        }}
      />
      <button type="button" className="attach" data-testid={`${testId}-attach`} title="Attach files" disabled={disabled} onClick={() => input.current?.click()}>
        📎
      </button>
    </>
  );
}

/** The files picked for the next message: preview or name, progress, and a way to take each out. */
export function PendingUploads({ uploads, onRemove }: { uploads: PendingUpload[]; onRemove: (key: string) => void }) {
  if (uploads.length === 0) return null;
  return (
    <ul className="pending-uploads" data-testid="pending-uploads">
      {uploads.map((u) => (
        <li key={u.key} className={`pending-upload ${u.status}`} data-testid="pending-upload" data-status={u.status} data-filename={u.file.name}>
          {u.preview ? <img src={u.preview} alt={u.file.name} /> : <span className="file-icon">📄</span>}
          <span className="pending-name">{u.file.name}</span>
          {u.status === 'uploading' && <progress data-testid="upload-progress" max={1} value={u.progress} />}
          {u.status === 'failed' && <span className="error" data-testid="upload-error">{u.error}</span>}
          <button type="button" className="link" title="Remove" onClick={() => onRemove(u.key)}>✕</button>
        </li>
      ))}
    </ul>
  );
}

const sizeOf = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * A message's files, from the cache when the page that showed the message
 * brought them, else asked for (messages of type IMAGE or FILE: what this app
 * sends files with). A URL that no longer works (they last 15 minutes) is
 * asked for again, once.
 */
export function MessageAttachments({ message }: { message: ChatMessage }) {
  const { data, refetch } = useQuery(MESSAGE_ATTACHMENTS, {
    variables: { id: message.id },
    fetchPolicy: message.type === 'TEXT' ? 'cache-only' : 'cache-first',
  });
  const refreshed = useRef(false);
  const refresh = () => {
    if (refreshed.current) return;
    refreshed.current = true;
    void refetch().catch(() => {});
  };
  const attachments = data?.message.attachments ?? [];
  return <AttachmentList attachments={attachments} onBrokenUrl={refresh} />;
}

/** Images shown (their size known before they load), every file a download link. */
function AttachmentList({ attachments, onBrokenUrl }: { attachments: MessageAttachmentsFragment['attachments']; onBrokenUrl: () => void }) {
  if (attachments.length === 0) return null;
  return (
    <ul className="attachments" data-testid="attachments">
      {attachments.map((a) => (
        <li key={a.id} className="attachment" data-testid="attachment" data-filename={a.filename}>
          {a.contentType.startsWith('image/') && (
            <a href={a.url} target="_blank" rel="noreferrer">
              <img
                data-testid="attachment-image"
                src={a.url}
                alt={a.filename}
                onError={onBrokenUrl}
                width={a.width ? Math.min(a.width, 240) : undefined}
                style={a.width && a.height ? { aspectRatio: `${a.width} / ${a.height}` } : undefined}
              />
            </a>
          )}
          <a className="attachment-link" data-testid="attachment-download" href={a.url} download={a.filename}>
            {a.filename}
          </a>{' '}
          <span className="attachment-size">{sizeOf(a.size)}</span>
        </li>
      ))}
    </ul>
  );
}
