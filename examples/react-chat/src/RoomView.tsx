import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { useApolloClient, useMutation, useQuery } from '@apollo/client/react';
import { useEffect, useLayoutEffect, useRef, useState, type RefObject } from 'react';
import { addMessage, newestLoaded, PAGE_SIZE } from './cache';
import { Composer } from './Composer';
import { listen, refetchRoomsIfInFlight } from './live';
import type { Mentionable } from './mentions';
import { MemberPresence } from './MemberPresence';
import { MessageItem } from './MessageItem';
import { ModerationMenu } from './ModerationMenu';
import { MuteGate } from './MuteGate';
import { MARK_READ, MESSAGE_ADDED_IN_ROOM, MESSAGES, TYPING, type ChatRoom } from './operations';
import { canPin, PinnedMessages } from './PinnedMessages';
import { roomTitle } from './RoomList';
import { SeenBy } from './SeenBy';
import { useChat, useConnectionState } from './session';
import { ThreadPanel } from './ThreadPanel';

/** How far back a jump to a search result pages before giving up. */
const JUMP_PAGES = 10;

/** A request to show one message (a new object for every click, so the same result can be opened again). */
export interface Jump {
  messageId: string;
  /** Open the message's thread too (a search result that is a reply jumps to its root). */
  openThread?: boolean;
}

export function RoomView({ room, jump: jumpFromSearch }: { room: ChatRoom; jump: Jump | null }) {
  const client = useApolloClient();
  const { me } = useChat();
  const { epoch } = useConnectionState();
  const roomId = room.id;
  const history = useHistory(roomId);
  const { loaded, messages } = history;
  const typists = useTypists(roomId, epoch);
  const members: Mentionable[] = room.members
    .filter((member) => member.user.id !== me.userId && member.user.displayName)
    .map((member) => ({ id: member.user.id, name: member.user.displayName ?? '' }));
  const mayPin = canPin(room, me.userId);

  // A jump comes from a search result, or from the pins list of this room.
  const [jump, setJump] = useState(jumpFromSearch);
  useEffect(() => setJump(jumpFromSearch), [jumpFromSearch]);
  const [threadRootId, setThreadRootId] = useState<string | null>(null);
  useEffect(() => {
    if (jump?.openThread) setThreadRootId(jump.messageId);
  }, [jump]);

  // Live messages of this room, resuming after the newest one we hold: after a
  // reconnect the server replays what we missed (no gap), and merging by id
  // drops what we already had (no double). Edits and deletions missed while
  // offline come from the catch-up (live.ts).
  useEffect(() => {
    if (epoch === 0 || !loaded) return;
    const since = newestLoaded(client.cache, roomId)?.id ?? null;
    const subscription = listen(client, { query: MESSAGE_ADDED_IN_ROOM, variables: { roomId, since } }, (data) =>
      addMessage(client.cache, data.messageAdded),
    );
    return () => subscription.unsubscribe();
  }, [client, roomId, epoch, loaded]);

  // Reading the room: whenever someone else's newest message changes while it is open.
  const [markRead] = useMutation(MARK_READ);
  const newestFromOthers = messages.find((m) => !m.isDeleted && m.sender?.id !== me.userId)?.id;
  useEffect(() => {
    const clearCounts = () =>
      client.cache.modify({
        id: client.cache.identify({ __typename: 'Room', id: roomId }),
        fields: { unreadCount: () => 0, unreadMentionCount: () => 0 },
      });
    clearCounts();
    // Again once the server has it: a room list read before that may have brought the counts back, or be on its way.
    markRead({ variables: { roomId } }).then(() => {
      clearCounts();
      refetchRoomsIfInFlight(client);
    }, () => {});
  }, [client, markRead, roomId, newestFromOthers]);

  // Keep the newest message in view when one arrives (not when older ones are loaded).
  const list = useRef<HTMLOListElement>(null);
  const newestId = messages[0]?.id;
  useLayoutEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [newestId]);
  const { found, missing } = useJump(jump, history, list);

  const shown = messages.filter((m) => !m.isDeleted).reverse(); // oldest at the top
  const newest = shown.at(-1);
  return (
    <>
      <section className="room-view" data-testid="room-view" data-room-id={roomId}>
        <div className="room-header">
          <h2 data-testid="room-title">{roomTitle(room, me.userId)}</h2>
          <MemberPresence room={room} />
          <PinnedMessages roomId={roomId} mayPin={mayPin} onShow={(messageId) => setJump({ messageId })} />
          <ModerationMenu roomId={roomId} />
        </div>
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
            <MessageItem key={message.id} message={message} found={message.id === found} canPin={mayPin} onOpenThread={setThreadRootId} />
          ))}
        </ol>
        {newest && <SeenBy roomId={roomId} message={newest} />}
        <p className="typing" data-testid="typing">
          {typists.length > 0 && `${typists.join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…`}
        </p>
        <MuteGate roomId={roomId}>
          <Composer roomId={roomId} members={members} />
        </MuteGate>
      </section>
      {threadRootId && (
        <ThreadPanel key={threadRootId} roomId={roomId} rootId={threadRootId} members={members} canPin={mayPin} onClose={() => setThreadRootId(null)} />
      )}
    </>
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
  // A refused page is asked again only while the room is still shown.
  const shown = useRef(true);
  useEffect(() => {
    shown.current = true;
    return () => {
      shown.current = false;
    };
  }, []);

  const loadOlder = async () => {
    const oldest = messages[messages.length - 1];
    setLoadingOlder(true);
    try {
      const { data: page } = await afterRefusals(() => fetchMore({ variables: { before: oldest.id } }), () => shown.current);
      if (!page || page.messages.length < PAGE_SIZE) setOlderDone(true);
    } finally {
      setLoadingOlder(false);
    }
  };
  return { loaded: data !== undefined, messages, canLoadOlder: !olderDone && messages.length >= PAGE_SIZE, loadingOlder, loadOlder };
}

/** How many times a read the server refused for now (RATE_LIMITED) is asked again, each after the wait it named. */
const REFUSALS_WAITED = 5;

/**
 * Runs `read`, and again after the server's wait while it answers RATE_LIMITED and is still `wanted`
 * (the per-user work budget: a burst of live events has this user's room list
 * read again and again, and a page asked meanwhile may be refused for a second).
 */
async function afterRefusals<T>(read: () => Promise<T>, wanted: () => boolean): Promise<T> {
  for (let refusals = 0; ; refusals++) {
    try {
      return await read();
    } catch (error) {
      const seconds = refusedFor(error);
      if (seconds === null || refusals >= REFUSALS_WAITED || !wanted()) throw error;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}

/** The seconds to wait when `error` is the server's RATE_LIMITED (a 429, read as GraphQL errors or not); null for any other error. */
function refusedFor(error: unknown): number | null {
  if (CombinedGraphQLErrors.is(error)) {
    const limited = error.errors.find((e) => e.extensions?.code === 'RATE_LIMITED');
    return limited ? Number(limited.extensions?.retryAfter) || 1 : null;
  }
  if (ServerError.is(error) && error.statusCode === 429) return Number(error.response.headers.get('retry-after')) || 1;
  return null;
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
