import { useMutation } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { DEV_USERS } from './DevUserPicker';
import { CREATE_GROUP, ROOMS, type ChatRoom } from './operations';
import { useChat } from './session';

export function roomTitle(room: ChatRoom, myId: string): string {
  if (room.name) return room.name;
  const others = room.members.filter((m) => m.user.id !== myId).map((m) => m.user.displayName ?? 'someone');
  return others.join(', ') || 'Just me';
}

function preview(room: ChatRoom): string {
  const last = room.lastMessage;
  if (!last) return 'No messages yet';
  if (last.isDeleted) return 'Message deleted';
  return `${last.sender?.displayName ?? 'system'}: ${last.content ?? ''}`;
}

/** Most recent activity first, as the API orders them; live updates can reorder. */
function byActivity(a: ChatRoom, b: ChatRoom): number {
  const at = (room: ChatRoom) => room.lastMessageAt ?? '';
  return at(b).localeCompare(at(a)) || b.createdAt.localeCompare(a.createdAt);
}

interface Props {
  rooms: ChatRoom[];
  selected: string | null;
  onSelect: (roomId: string) => void;
}

export function RoomList({ rooms, selected, onSelect }: Props) {
  const { me } = useChat();
  return (
    <nav className="rooms">
      <h2>Rooms</h2>
      <ul data-testid="room-list">
        {[...rooms].sort(byActivity).map((room) => (
          <li key={room.id}>
            <button
              data-testid="room"
              data-room-id={room.id}
              className={room.id === selected ? 'room selected' : 'room'}
              onClick={() => onSelect(room.id)}
            >
              <span className="room-name" data-testid="room-name">{roomTitle(room, me.userId)}</span>
              <span className="badges">
                {room.unreadMentionCount > 0 && (
                  <span className="badge mention-badge" data-testid="room-mentions" title="Unread messages that mention you">@{room.unreadMentionCount}</span>
                )}
                {room.unreadCount > 0 && <span className="badge" data-testid="room-unread">{room.unreadCount}</span>}
              </span>
              <span className="room-last" data-testid="room-last">{preview(room)}</span>
            </button>
          </li>
        ))}
      </ul>
      <NewGroup onCreated={onSelect} />
    </nav>
  );
}

function NewGroup({ onCreated }: { onCreated: (roomId: string) => void }) {
  const { me } = useChat();
  const [name, setName] = useState('');
  const [members, setMembers] = useState<string[]>([]);
  const [create, { loading, error }] = useMutation(CREATE_GROUP, {
    refetchQueries: [ROOMS],
    awaitRefetchQueries: true,
  });
  const others = DEV_USERS.filter((user) => user.userId !== me.userId);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!name.trim()) return;
    const { data } = await create({ variables: { input: { name: name.trim(), memberIds: members } } });
    setName('');
    setMembers([]);
    if (data) onCreated(data.createGroupChat.id);
  };
  const toggle = (userId: string) =>
    setMembers((ids) => (ids.includes(userId) ? ids.filter((id) => id !== userId) : [...ids, userId]));

  return (
    <form className="new-group" onSubmit={submit}>
      <h3>New group</h3>
      <input data-testid="new-room-name" placeholder="Group name" value={name} onChange={(e) => setName(e.target.value)} />
      {others.map((user) => (
        <label key={user.userId}>
          <input type="checkbox" data-testid={`new-room-member-${user.name}`} checked={members.includes(user.userId)} onChange={() => toggle(user.userId)} />
          {user.name}
        </label>
      ))}
      <button type="submit" data-testid="new-room-create" disabled={loading}>Create</button>
      {error && <p className="error">{error.message}</p>}
    </form>
  );
}
