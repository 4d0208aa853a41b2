import { useApolloClient } from '@apollo/client/react';
import { useEffect } from 'react';
import { listen } from './live';
import { PRESENCE_CHANGED, type ChatRoom } from './operations';
import { useConnectionState } from './session';

/**
 * The room's members, a green dot by those online. The room list brings each
 * member's `online`; presenceChanged keeps it live: its `user { id online }`
 * is written to the cache by id, so every place showing that user follows.
 * After a reconnect the room list is read again, which brings what changed meanwhile.
 */
export function MemberPresence({ room }: { room: ChatRoom }) {
  const client = useApolloClient();
  const { epoch } = useConnectionState();
  useEffect(() => {
    if (epoch === 0) return;
    const subscription = listen(client, { query: PRESENCE_CHANGED, variables: { roomId: room.id } }, () => {});
    return () => subscription.unsubscribe();
  }, [client, room.id, epoch]);
  return (
    <ul className="member-presence" data-testid="members">
      {room.members.map(({ id, user }) => (
        <li key={id} data-testid="member-presence" data-user-id={user.id} data-online={String(user.online)} title={user.online ? 'online' : 'offline'}>
          <span className={user.online ? 'dot online' : 'dot'} aria-label={user.online ? 'online' : 'offline'} />
          {user.displayName ?? 'someone'}
        </li>
      ))}
    </ul>
  );
}
