import { useQuery } from '@apollo/client/react';
import { useLayoutEffect, useRef, useState } from 'react';
import { THREAD_PAGE_SIZE } from './cache';
import { Composer } from './Composer';
import { MuteGate } from './MuteGate';
import type { Mentionable } from './mentions';
import { MessageItem } from './MessageItem';
import { MESSAGE, THREAD } from './operations';

interface Props {
  roomId: string;
  rootId: string;
  members: Mentionable[];
  canPin: boolean;
  onClose: () => void;
}

/**
 * A thread beside the room: its root, its replies (oldest at the top) and a
 * composer that replies in it. New replies need no subscription of their own:
 * messageAdded brings them with `parent` set and cache.ts adds them to this
 * thread's list; the root's reply count comes with messageUpdated.
 */
export function ThreadPanel({ roomId, rootId, members, canPin, onClose }: Props) {
  const { data: rootData, error: rootError } = useQuery(MESSAGE, { variables: { id: rootId } });
  const { data, error, fetchMore } = useQuery(THREAD, {
    variables: { parentId: rootId, limit: THREAD_PAGE_SIZE },
    fetchPolicy: 'cache-and-network',
  });
  const replies = data?.thread ?? [];
  const [olderDone, setOlderDone] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const loadOlder = async () => {
    setLoadingOlder(true);
    try {
      const { data: page } = await fetchMore({ variables: { before: replies[replies.length - 1].id } });
      if (!page || page.thread.length < THREAD_PAGE_SIZE) setOlderDone(true);
    } finally {
      setLoadingOlder(false);
    }
  };

  // Keep the newest reply in view when one arrives.
  const list = useRef<HTMLOListElement>(null);
  const newestId = replies[0]?.id;
  useLayoutEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [newestId]);

  const root = rootData?.message;
  const shown = replies.filter((m) => !m.isDeleted).reverse(); // oldest at the top
  return (
    <aside className="thread-panel" data-testid="thread-panel" data-parent-id={rootId}>
      <div className="panel-header">
        <h3>Thread</h3>
        <button data-testid="thread-close" onClick={onClose} aria-label="Close the thread">✕</button>
      </div>
      {(error ?? rootError) && <p className="error" data-testid="thread-error">{(error ?? rootError)?.message}</p>}
      {root && (
        <ol className="thread-root">
          <MessageItem message={root} variant="thread-root" canPin={canPin} />
        </ol>
      )}
      <p className="thread-count" data-testid="thread-count">
        {root && `${root.replyCount} ${root.replyCount === 1 ? 'reply' : 'replies'}`}
      </p>
      <ol className="messages thread-replies" ref={list} data-testid="thread-replies">
        {!olderDone && replies.length >= THREAD_PAGE_SIZE && (
          <li className="older">
            <button data-testid="thread-load-older" onClick={() => void loadOlder()} disabled={loadingOlder}>
              {loadingOlder ? 'Loading…' : 'Load older replies'}
            </button>
          </li>
        )}
        {data && shown.length === 0 && <li className="empty">No replies yet.</li>}
        {shown.map((reply) => (
          <MessageItem key={reply.id} message={reply} variant="thread-reply" />
        ))}
      </ol>
      {root && !root.isDeleted && (
        <MuteGate roomId={roomId} testId="thread-composer">
          <Composer roomId={roomId} members={members} parentId={rootId} />
        </MuteGate>
      )}
    </aside>
  );
}
