import { useMutation, useQuery } from '@apollo/client/react';
import { useState } from 'react';
import { syncPins } from './cache';
import { MessageText } from './MessageItem';
import { PINNED_MESSAGES, UNPIN, type ChatRoom } from './operations';

/** Who may pin (the API's rule): both members of a DIRECT room; the OWNER and ADMINs of a GROUP room. */
export function canPin(room: ChatRoom, myId: string): boolean {
  if (room.type === 'DIRECT') return true;
  const role = room.members.find((member) => member.user.id === myId)?.role;
  return role === 'OWNER' || role === 'ADMIN';
}

/**
 * The room's pins: a toggle with their count, and the list, most recently
 * pinned first. The list is loaded once; pins and unpins (mine and others',
 * live or caught up after a reconnect) move messages in and out of it in the
 * cache (syncPins), as each comes with a messageUpdated carrying pinnedAt.
 */
export function PinnedMessages({ roomId, mayPin, onShow }: { roomId: string; mayPin: boolean; onShow: (messageId: string) => void }) {
  const [open, setOpen] = useState(false);
  const { data } = useQuery(PINNED_MESSAGES, { variables: { roomId }, fetchPolicy: 'cache-and-network' });
  const [unpin] = useMutation(UNPIN, { update: (cache, { data }) => data && syncPins(cache, data.unpinMessage) });
  const pins = data?.room.pinnedMessages ?? [];

  return (
    <div className="pins">
      <button data-testid="pins-toggle" data-count={pins.length} aria-expanded={open} onClick={() => setOpen(!open)}>
        📌 Pinned ({pins.length})
      </button>
      {open && (
        <ul className="pins-list" data-testid="pins-list">
          {data && pins.length === 0 && <li className="empty">Nothing pinned yet.</li>}
          {pins.map((message) => (
            <li key={message.id} data-testid="pinned-message" data-message-id={message.id}>
              <button className="pinned-text" title="Show in the room" onClick={() => onShow(message.id)}>
                <b>{message.sender?.displayName ?? 'system'}:</b>{' '}
                <span data-testid="pinned-content"><MessageText content={message.content ?? ''} mentions={message.mentions} /></span>
              </button>
              <span className="pinned-by">pinned by {message.pinnedBy?.displayName ?? 'someone'}</span>
              {mayPin && (
                <button data-testid="pinned-unpin" onClick={() => void unpin({ variables: { id: message.id } })}>Unpin</button>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
