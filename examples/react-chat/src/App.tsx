import { ApolloProvider, useQuery } from '@apollo/client/react';
import { useEffect, useState } from 'react';
import { Connection, createApolloClient, type DevSession } from './connection';
import { DevUserPicker } from './DevUserPicker';
import { useLiveUpdates } from './live';
import { MessageSearch } from './MessageSearch';
import { ROOMS, type SearchHit } from './operations';
import { RoomList } from './RoomList';
import { RoomView, type Jump } from './RoomView';
import { ChatContext, loadSession, saveSession, useConnectionState } from './session';

export function App() {
  const [session, setSession] = useState(loadSession);
  const choose = (next: DevSession | null) => {
    saveSession(next);
    setSession(next);
  };
  if (!session) return <DevUserPicker onPick={choose} />;
  return <Chat key={session.token} session={session} onSignOut={() => choose(null)} />;
}

/** One signed-in user: one socket, one Apollo client (and cache), for as long as the session lasts. */
function Chat({ session, onSignOut }: { session: DevSession; onSignOut: () => void }) {
  const [{ connection, client }] = useState(() => {
    const connection = new Connection(session.token);
    return { connection, client: createApolloClient(session.token, connection) };
  });
  useEffect(() => {
    connection.open();
    return () => connection.close();
  }, [connection]);
  useEffect(() => () => client.stop(), [client]);

  return (
    <ApolloProvider client={client}>
      <ChatContext.Provider value={{ me: session, connection }}>
        <div className="app">
          <header>
            <strong>Chat API example</strong>
            <span data-testid="me">Signed in as {session.name}</span>
            <ConnectionBar />
            <button onClick={onSignOut}>Switch user</button>
          </header>
          <Rooms />
        </div>
      </ChatContext.Provider>
    </ApolloProvider>
  );
}

function Rooms() {
  const [selected, setSelected] = useState<{ roomId: string; jump: Jump | null } | null>(null);
  const { data, error } = useQuery(ROOMS);
  useLiveUpdates(selected?.roomId ?? null);
  const rooms = data?.rooms.items ?? [];
  const room = rooms.find((r) => r.id === selected?.roomId);
  const open = (roomId: string) => setSelected({ roomId, jump: null });
  const openHit = ({ message }: SearchHit) => {
    // A reply only in its thread is not in the room's history: show its root, with the thread open.
    const threadOnly = message.parent && !message.alsoInRoom;
    const jump = threadOnly ? { messageId: message.parent!.id, openThread: true } : { messageId: message.id };
    setSelected({ roomId: message.room.id, jump });
  };
  return (
    <main>
      <aside className="sidebar">
        <MessageSearch rooms={rooms} onOpen={openHit} />
        <RoomList rooms={rooms} selected={room?.id ?? null} onSelect={open} />
      </aside>
      {room ? (
        <RoomView key={room.id} room={room} jump={selected?.jump ?? null} />
      ) : (
        <section className="room-view placeholder">
          {error ? <p className="error" data-testid="rooms-error">Could not load the rooms: {error.message}</p> : 'Pick a room, or create a group.'}
        </section>
      )}
    </main>
  );
}

/** The socket's state, and a switch to close it and open it again (which resumes with `since`). */
function ConnectionBar() {
  const { connection, status } = useConnectionState();
  return (
    <span className="connection">
      <span className={`status ${status}`} data-testid="connection-status">{status}</span>
      <button data-testid="toggle-connection" onClick={() => (status === 'offline' ? connection.open() : connection.close())}>
        {status === 'offline' ? 'Reconnect' : 'Go offline'}
      </button>
    </span>
  );
}
