import type { ApolloClient, OperationVariables } from '@apollo/client';
import { useApolloClient } from '@apollo/client/react';
import { useEffect, useRef } from 'react';
import { addMessage, inHistory, mergeChange } from './cache';
import { catchUp } from './catch-up';
import { MEMBERSHIP_CHANGED, MESSAGE_ADDED_ANYWHERE, MESSAGE_UPDATED, ROOM_LIVE, ROOMS, type ChatMessage } from './operations';
import { useChat, useConnectionState } from './session';

/** Per client: whether a ROOMS refetch is in flight (or about to follow one), whether another must follow it, and failures in a row. */
const roomsRefetch = new WeakMap<ApolloClient, { inFlight: boolean; again: boolean; failures: number }>();

/**
 * The pause before the read that follows one: a burst of live events asks for one read, not one per event.
 * A second: the room list is the dearest read a client makes (its cost weighs its 50 rooms' members and last
 * messages), and at four a second a burst of messages spent most of the user's work budget on it alone, so that
 * the history pages read meanwhile were refused (RATE_LIMITED). Live events show at once without it.
 */
const AGAIN_AFTER_MS = 1000;
/** The pause before asking again after a read that failed (the server's work budget said wait, or the network). */
const RETRY_AFTER_MS = 1000;
const MAX_RETRIES = 5;

/**
 * Reads the room list again, one request at a time. A request made while one is
 * in flight runs once more after it: the answer in flight may have been read
 * before the messages that arrived meanwhile, and would overwrite what they
 * added to the counts; the next read comes after them, a second later, once for
 * all of them. A read that failed (RATE_LIMITED by the server's per-user work
 * budget, say) is asked again a second later, a few times.
 */
function refetchRooms(client: ApolloClient): void {
  let state = roomsRefetch.get(client);
  if (!state) roomsRefetch.set(client, (state = { inFlight: false, again: false, failures: 0 }));
  if (state.inFlight) {
    state.again = true;
    return;
  }
  const current = state;
  current.inFlight = true;
  Promise.resolve(client.refetchQueries({ include: [ROOMS] }))
    .then(
      () => {
        current.failures = 0;
      },
      (error: unknown) => {
        current.failures += 1;
        console.debug('rooms refetch failed', error);
      },
    )
    .finally(() => {
      const retry = current.failures > 0 && current.failures <= MAX_RETRIES;
      if (!retry && !current.again) {
        current.inFlight = false;
        return;
      }
      current.again = false;
      // Still "in flight" during the pause: requests made meanwhile are served by the read that follows.
      setTimeout(() => {
        current.inFlight = false;
        current.again = false;
        refetchRooms(client);
      }, retry ? RETRY_AFTER_MS : AGAIN_AFTER_MS);
    });
}

/** A local change to the counts (a live message, a read) would be lost under a ROOMS answer in flight: read them again after it. */
export function refetchRoomsIfInFlight(client: ApolloClient): void {
  if (roomsRefetch.get(client)?.inFlight) refetchRooms(client);
}

/**
 * Subscribes for as long as the connection lasts. Errors (the socket closed,
 * "go offline") end it quietly: the next connection epoch subscribes again.
 */
export function listen<TData, TVariables extends OperationVariables>(
  client: ApolloClient,
  options: ApolloClient.SubscribeOptions<TData, TVariables>,
  onData: (data: TData) => void,
): { unsubscribe(): void } {
  return client.subscribe(options).subscribe({
    next: ({ data }) => {
      if (data) onData(data);
    },
    error: (error: unknown) => console.debug('subscription ended', error),
  });
}

/**
 * The subscriptions that keep the room list live (every room I am in), opened
 * once per connection epoch. Edits, deletions and reactions are merged into
 * the cache by message id, so every list showing a message shows its change.
 *
 * Catching up: the client keeps the cursor its last catch-up ended at (cursors
 * are opaque: they tell nothing of which change is later). On every
 * (re)connection it first merges what changed after it (`changes`, paged),
 * then subscribes to `messageUpdated(since: <the cursor>)`, which replays
 * whatever changed during the catch-up before going live: nothing missed
 * while offline. Changes already seen live come again after a reconnect and
 * merge by id, so nothing shows twice.
 */
export function useLiveUpdates(openRoomId: string | null): void {
  const client = useApolloClient();
  const { me } = useChat();
  const { epoch } = useConnectionState();
  const openRoom = useRef(openRoomId);
  openRoom.current = openRoomId;
  // Where the last catch-up ended: the next one starts there.
  const seen = useRef<string | null>(null);

  useEffect(() => {
    if (epoch === 0) return; // not connected yet

    const onMessage = (message: ChatMessage) => {
      const { cache } = client;
      addMessage(cache, message);
      if (!inHistory(message)) return; // a reply in a thread only: not the room's last message, not unread
      const id = cache.identify({ __typename: 'Room', id: message.room.id });
      const room = cache.readFragment({ id, fragment: ROOM_LIVE, fragmentName: 'RoomLive' });
      if (!room) return refetchRooms(client); // a room the list does not show yet
      if (room.lastMessage && room.lastMessage.seq >= message.seq) return; // seen already
      refetchRoomsIfInFlight(client);
      const unseen = message.sender?.id !== me.userId && openRoom.current !== message.room.id;
      const mentionsMe = unseen && message.mentions.some((user) => user.id === me.userId);
      cache.writeFragment({
        id,
        fragment: ROOM_LIVE,
        fragmentName: 'RoomLive',
        data: {
          ...room,
          lastMessage: message,
          lastMessageAt: message.createdAt,
          unreadCount: room.unreadCount + (unseen ? 1 : 0),
          unreadMentionCount: room.unreadMentionCount + (mentionsMe ? 1 : 0),
        },
      });
    };
    const onChange = (message: ChatMessage) => {
      mergeChange(client.cache, message);
      // A deleted message leaves the unread counts and may have been a room's last message; an
      // edit may have mentioned me (editMessage replaces the mentions) in a room I am not reading.
      const mayMentionMe =
        message.mentions.some((user) => user.id === me.userId) && message.sender?.id !== me.userId && openRoom.current !== message.room.id;
      if (message.isDeleted || mayMentionMe) refetchRooms(client);
    };

    const subscriptions = [
      listen(client, { query: MESSAGE_ADDED_ANYWHERE }, (data) => onMessage(data.messageAdded)),
      listen(client, { query: MEMBERSHIP_CHANGED }, () => refetchRooms(client)),
    ];
    let ended = false;
    void catchUp(client, seen.current)
      .then(
        (cursor) => {
          seen.current = cursor ?? seen.current;
          if (epoch > 1) refetchRooms(client); // a reconnect: counts and last messages may have moved while offline
        },
        // The subscription's replay catches up instead.
        (error: unknown) => console.debug('catch-up failed', error),
      )
      .then(() => {
        if (ended) return;
        const since = seen.current;
        subscriptions.push(listen(client, { query: MESSAGE_UPDATED, variables: { since } }, (data) => onChange(data.messageUpdated)));
      });
    return () => {
      ended = true;
      subscriptions.forEach((subscription) => subscription.unsubscribe());
    };
  }, [client, epoch, me.userId]);
}
