import { useLazyQuery } from '@apollo/client/react';
import { useState, type FormEvent } from 'react';
import { SEARCH_MESSAGES, type ChatRoom, type SearchHit } from './operations';
import { roomTitle } from './RoomList';
import { useChat } from './session';

const LIMIT = 20;

/** Full-text search over the messages of my rooms; a result opens its room at the message. */
export function MessageSearch({ rooms, onOpen }: { rooms: ChatRoom[]; onOpen: (hit: SearchHit) => void }) {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [search, { data, loading, error }] = useLazyQuery(SEARCH_MESSAGES, { fetchPolicy: 'network-only' });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const query = text.trim();
    if (!query) return;
    setOpen(true);
    void search({ variables: { query, limit: LIMIT } }).catch(() => {}); // shown from `error`
  };
  const close = () => {
    setText('');
    setOpen(false);
  };

  return (
    <div className="search">
      <form role="search" onSubmit={submit}>
        <input
          type="search"
          data-testid="search-input"
          placeholder="Search messages"
          value={text}
          onChange={(e) => (e.target.value ? setText(e.target.value) : close())}
        />
        <button type="submit" data-testid="search-submit">Search</button>
      </form>
      {open && (
        <div className="search-results" data-testid="search-results">
          {loading && <p className="search-status">Searching…</p>}
          {error && <p className="error" data-testid="search-error">{error.message}</p>}
          {!loading && data?.searchMessages.length === 0 && <p className="search-status" data-testid="search-empty">No messages found.</p>}
          <ul>
            {data?.searchMessages.map((hit) => (
              <li key={hit.message.id}>
                <SearchResult hit={hit} room={rooms.find((r) => r.id === hit.message.room.id)} onOpen={() => onOpen(hit)} />
              </li>
            ))}
          </ul>
          <button className="search-close" data-testid="search-close" onClick={close}>Close</button>
        </div>
      )}
    </div>
  );
}

function SearchResult({ hit, room, onOpen }: { hit: SearchHit; room: ChatRoom | undefined; onOpen: () => void }) {
  const { me } = useChat();
  return (
    <button className="search-hit" data-testid="search-hit" data-message-id={hit.message.id} onClick={onOpen}>
      <span className="search-hit-room" data-testid="search-hit-room">
        {room ? roomTitle(room, me.userId) : 'A room'} · {hit.message.sender?.displayName ?? 'system'}
      </span>
      {/* The server HTML-escapes the content and adds only <mark>: safe to render as HTML. */}
      <span className="search-hit-snippet" data-testid="search-hit-snippet" dangerouslySetInnerHTML={{ __html: hit.snippet }} />
    </button>
  );
}
