import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent, type RefObject } from 'react';
import { addToHistory, newestLoaded, PAGE_SIZE } from './cache';
import {
  ADD_REACTION, DELETE, EDIT, MARK_READ, MESSAGE_ADDED_IN_ROOM, MESSAGES, REMOVE_REACTION, SEND, SET_TYPING, TYPING,
  type ChatMessage, type ChatRoom,
} from './operations';
import { listen } from './live';
import { roomTitle } from './RoomList';
import { useChat, useConnectionState } from './session';

const REACTIONS = ['👍', '❤️', '😂'];
/** How far back a jump to a search result pages before giving up. */
const JUMP_PAGES = 10;

/** A request to show one message (a new object for every click, so the same result can be opened again). */
export interface Jump {
  messageId: string;
}

export function RoomView({ room, jump }: { room: ChatRoom; jump: Jump | null }) {
  const client = useApolloClient();
  const { me } = useChat();
  const { epoch } = useConnectionState();
  const roomId = room.id;
  const history = useHistory(roomId);
  const { loaded, messages } = history;
  const typists = useTypists(roomId, epoch);

  // Live messages of this room, resuming after the newest one we hold: after a
  // reconnect the server replays what we missed (no gap), and merging by id
  // drops what we already had (no double). Edits and deletions missed while
  // offline come from the catch-up (live.ts).
  useEffect(() => {
    if (epoch === 0 || !loaded) return;
    const since = newestLoaded(client.cache, roomId)?.id ?? null;
    const subscription = listen(client, { query: MESSAGE_ADDED_IN_ROOM, variables: { roomId, since } }, (data) =>
      addToHistory(client.cache, data.messageAdded),
    );
    return () => subscription.unsubscribe();
  }, [client, roomId, epoch, loaded]);

  // Reading the room: whenever someone else's newest message changes while it is open.
  const [markRead] = useMutation(MARK_READ);
  const newestFromOthers = messages.find((m) => !m.isDeleted && m.sender?.id !== me.userId)?.id;
  useEffect(() => {
    void markRead({ variables: { roomId } }).catch(() => {});
    client.cache.modify({ id: client.cache.identify({ __typename: 'Room', id: roomId }), fields: { unreadCount: () => 0 } });
  }, [client, markRead, roomId, newestFromOthers]);

  // Keep the newest message in view when one arrives (not when older ones are loaded).
  const list = useRef<HTMLOListElement>(null);
  const newestId = messages[0]?.id;
  useLayoutEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [newestId]);
  const { found, missing } = useJump(jump, history, list);

  const shown = messages.filter((m) => !m.isDeleted).reverse(); // oldest at the top
  return (
    <section className="room-view" data-testid="room-view" data-room-id={roomId}>
      <h2 data-testid="room-title">{roomTitle(room, me.userId)}</h2>
      {missing && <p className="notice" data-testid="jump-missing">That message is not in the recent history of this room (deleted, or too far back).</p>}
      <ol className="messages" ref={list} data-testid="messages">
        {history.canLoadOlder && (
          <li className="older">
            <button data-testid="load-older" onClick={() => void history.loadOlder()} disabled={history.loadingOlder}>
              {history.loadingOlder ? 'Loading…' : 'Load older messages'}
            </button>
          </li>
        )}
        {loaded && shown.length === 0 && <li className="empty">No messages yet. Say hello!</li>}
        {shown.map((message) => (
          <MessageItem key={message.id} message={message} mine={message.sender?.id === me.userId} found={message.id === found} />
        ))}
      </ol>
      <p className="typing" data-testid="typing">
        {typists.length > 0 && `${typists.join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`}
      </p>
      <Composer roomId={roomId} />
    </section>
  );
}

type History = ReturnType<typeof useHistory>;

/** The room's loaded history, newest first (every page shares one cache list), and the way to load the page before it. */
function useHistory(roomId: string) {
  const { data, fetchMore } = useQuery(MESSAGES, {
    variables: { roomId, limit: PAGE_SIZE },
    fetchPolicy: 'cache-and-network',
  });
  const messages = data?.messages ?? [];
  const [olderDone, setOlderDone] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);

  const loadOlder = async () => {
    const oldest = messages[messages.length - 1];
    setLoadingOlder(true);
    try {
      const { data: page } = await fetchMore({ variables: { before: oldest.id } });
      if (!page || page.messages.length < PAGE_SIZE) setOlderDone(true);
    } finally {
      setLoadingOlder(false);
    }
  };
  return { loaded: data !== undefined, messages, canLoadOlder: !olderDone && messages.length >= PAGE_SIZE, loadingOlder, loadOlder };
}

/**
 * Brings the message of a jump into view: pages back through the history until
 * it is loaded (at most JUMP_PAGES pages), then scrolls to it. Returns the id of
 * the message found (shown highlighted), or that it could not be found.
 */
function useJump(jump: Jump | null, history: History, list: RefObject<HTMLOListElement | null>) {
  const [result, setResult] = useState<{ jump: Jump; found: boolean } | null>(null);
  const pagesLoaded = useRef(0);
  const settled = result?.jump === jump;
  const { loaded, messages, loadingOlder, canLoadOlder } = history;

  useEffect(() => {
    pagesLoaded.current = 0;
  }, [jump]);

  useEffect(() => {
    if (!jump || settled || !loaded || loadingOlder) return;
    const target = messages.find((m) => m.id === jump.messageId);
    if (target) {
      setResult({ jump, found: !target.isDeleted });
    } else if (canLoadOlder && pagesLoaded.current < JUMP_PAGES) {
      pagesLoaded.current += 1;
      history.loadOlder().catch(() => setResult({ jump, found: false }));
    } else {
      setResult({ jump, found: false });
    }
  }, [jump, settled, loaded, loadingOlder, messages, canLoadOlder]); // not history.loadOlder: new every render

  const found = settled && result.found ? result.jump.messageId : null;
  useEffect(() => {
    if (found) list.current?.querySelector(`[data-message-id="${found}"]`)?.scrollIntoView({ block: 'center' });
  }, [found, result, list]); // result: opening the same message again scrolls to it again
  return { found, missing: settled && !result.found };
}

/** Who is typing in the room, from the typing subscription; an entry fades after 6 s without news. */
function useTypists(roomId: string, epoch: number): string[] {
  const client = useApolloClient();
  const [typing, setTyping] = useState<Record<string, { name: string; until: number }>>({});
  useEffect(() => {
    if (epoch === 0) return;
    setTyping({}); // a reconnect: who was typing before it is stale (a "stopped" may have been missed)
    const subscription = listen(client, { query: TYPING, variables: { roomId } }, (data) => {
      const { isTyping, user } = data.typing;
      setTyping(({ [user.id]: _, ...rest }) =>
        isTyping ? { ...rest, [user.id]: { name: user.displayName ?? 'someone', until: Date.now() + 6000 } } : rest,
      );
    });
    return () => subscription.unsubscribe();
  }, [client, roomId, epoch]);
  const active = Object.values(typing);
  useEffect(() => {
    if (active.length === 0) return;
    const timer = setInterval(() => {
      setTyping((all) => Object.fromEntries(Object.entries(all).filter(([, t]) => t.until > Date.now())));
    }, 1000);
    return () => clearInterval(timer);
  }, [active.length]);
  return active.map((t) => t.name);
}

function MessageItem({ message, mine, found }: { message: ChatMessage; mine: boolean; found: boolean }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState('');
  const [edit] = useMutation(EDIT);
  const [remove] = useMutation(DELETE);
  const [addReaction] = useMutation(ADD_REACTION);
  const [removeReaction] = useMutation(REMOVE_REACTION);
  // Mutation results update Message:<id> in the cache; nothing else to do.

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (draft.trim() && draft !== message.content) await edit({ variables: { id: message.id, content: draft.trim() } });
    setEditing(false);
  };
  const react = (reaction: string, mineAlready: boolean) =>
    void (mineAlready ? removeReaction : addReaction)({ variables: { id: message.id, reaction } });

  const reactions = [...REACTIONS, ...message.reactions.map((r) => r.reaction).filter((r) => !REACTIONS.includes(r))];
  const time = new Date(message.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <li
      className={`message${mine ? ' mine' : ''}${message.sender ? '' : ' system'}${found ? ' found' : ''}`}
      data-testid="message"
      data-message-id={message.id}
      data-seq={message.seq}
      data-found={found || undefined}
    >
      <div className="meta">
        <b>{message.sender?.displayName ?? 'system'}</b> <time>{time}</time> {message.isEdited && <i>(edited)</i>}
      </div>
      {editing ? (
        <form className="edit" onSubmit={save}>
          <input data-testid="edit-input" value={draft} onChange={(e) => setDraft(e.target.value)} autoFocus />
          <button type="submit" data-testid="edit-save">Save</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : (
        <p className="content" data-testid="message-content">{message.content}</p>
      )}
      <div className="actions">
        {reactions.map((reaction) => {
          const summary = message.reactions.find((r) => r.reaction === reaction);
          return (
            <button
              key={reaction}
              data-testid={`reaction-${reaction}`}
              data-count={summary?.count ?? 0}
              className={summary?.reactedByMe ? 'reaction on' : 'reaction'}
              onClick={() => react(reaction, summary?.reactedByMe ?? false)}
            >
              {reaction} {summary ? summary.count : ''}
            </button>
          );
        })}
        {mine && !editing && (
          <>
            <button data-testid="message-edit" onClick={() => (setDraft(message.content ?? ''), setEditing(true))}>Edit</button>
            <button data-testid="message-delete" onClick={() => void remove({ variables: { id: message.id } })}>Delete</button>
          </>
        )}
      </div>
    </li>
  );
}

/** Send with a clientId (a retry cannot double a message); typing is announced at most every 3 s. */
function Composer({ roomId }: { roomId: string }) {
  const client = useApolloClient();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [send] = useMutation(SEND, {
    update: (cache, { data }) => data && addToHistory(cache, data.sendMessage),
  });
  const announced = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout>>(undefined);
  const typingQueue = useRef(Promise.resolve());

  // One at a time, so "stopped typing" cannot overtake "typing".
  const typing = (isTyping: boolean) => {
    announced.current = isTyping ? Date.now() : 0;
    typingQueue.current = typingQueue.current
      .then(() => client.mutate({ mutation: SET_TYPING, variables: { roomId, isTyping } }))
      .then(() => {}, () => {});
  };
  const change = (value: string) => {
    setText(value);
    if (Date.now() - announced.current > 3000) typing(true);
    clearTimeout(idle.current);
    idle.current = setTimeout(() => typing(false), 4000);
  };
  useEffect(() => () => clearTimeout(idle.current), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const content = text.trim();
    if (!content) return;
    setText('');
    setError(null);
    clearTimeout(idle.current);
    if (announced.current) typing(false);
    const clientId = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
    try {
      await send({ variables: { input: { roomId, content, clientId } } });
    } catch (e) {
      setText(content);
      setError((e as Error).message);
    }
  };

  return (
    <form className="composer" onSubmit={submit}>
      <input data-testid="composer-input" placeholder="Write a message" value={text} onChange={(e) => change(e.target.value)} />
      <button type="submit" data-testid="composer-send">Send</button>
      {error && <p className="error" data-testid="send-error">{error}</p>}
    </form>
  );
}
