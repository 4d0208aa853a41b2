import { gql, type ApolloClient, type DocumentNode } from '@apollo/client';
import { useApolloClient } from '@apollo/client/react';
import { useEffect, useRef } from 'react';
import { addToHistory } from './cache';
import { MEMBERSHIP_CHANGED, MESSAGE_ADDED_ANYWHERE, MESSAGE_FIELDS, MESSAGE_UPDATED, ROOMS, type ChatMessage } from './operations';
import { useChat, useConnectionState } from './session';

const ROOM_LIVE = gql`
  fragment RoomLive on Room {
    lastMessageAt
    unreadCount
    lastMessage { ...MessageFields }
  }
  ${MESSAGE_FIELDS}
`;

interface RoomLive {
  lastMessageAt: string | null;
  unreadCount: number;
  lastMessage: ChatMessage | null;
}

const refetchRooms = (client: ApolloClient) => void client.refetchQueries({ include: [ROOMS] });

/**
 * Subscribes for as long as the connection lasts. Errors (the socket closed,
 * "go offline") end it quietly: the next connection epoch subscribes again.
 */
export function listen<T>(
  client: ApolloClient,
  options: { query: DocumentNode; variables?: Record<string, unknown> },
  onData: (data: T) => void,
): { unsubscribe(): void } {
  return client.subscribe<T>(options).subscribe({
    next: ({ data }) => {
      if (data) onData(data as T);
    },
    error: (error: unknown) => console.debug('subscription ended', error),
  });
}

/**
 * The subscriptions that keep the room list live (every room I am in), opened
 * once per connection epoch. Edits, deletions and reactions land in the cache
 * by themselves: the subscription's Message is normalised over Message:<id>.
 */
export function useLiveUpdates(openRoomId: string | null): void {
  const client = useApolloClient();
  const { me } = useChat();
  const { epoch } = useConnectionState();
  const openRoom = useRef(openRoomId);
  openRoom.current = openRoomId;

  useEffect(() => {
    if (epoch === 0) return; // not connected yet
    if (epoch > 1) refetchRooms(client); // a reconnect: counts may have moved while offline

    const onMessage = (message: ChatMessage) => {
      const { cache } = client;
      addToHistory(cache, message);
      const id = cache.identify({ __typename: 'Room', id: message.room.id });
      const room = cache.readFragment<RoomLive>({ id, fragment: ROOM_LIVE, fragmentName: 'RoomLive' });
      if (!room) return refetchRooms(client); // a room the list does not show yet
      if (room.lastMessage && room.lastMessage.seq >= message.seq) return; // seen already
      const unseen = message.sender?.id !== me.userId && openRoom.current !== message.room.id;
      cache.writeFragment<RoomLive>({
        id,
        fragment: ROOM_LIVE,
        fragmentName: 'RoomLive',
        data: { lastMessage: message, lastMessageAt: message.createdAt, unreadCount: room.unreadCount + (unseen ? 1 : 0) },
      });
    };

    const subscriptions = [
      listen<{ messageAdded: ChatMessage }>(client, { query: MESSAGE_ADDED_ANYWHERE }, (data) => onMessage(data.messageAdded)),
      listen<{ messageUpdated: ChatMessage }>(client, { query: MESSAGE_UPDATED }, (data) => {
        // A deleted message leaves the unread count and may have been a room's last message.
        if (data.messageUpdated.isDeleted) refetchRooms(client);
      }),
      listen(client, { query: MEMBERSHIP_CHANGED }, () => refetchRooms(client)),
    ];
    return () => subscriptions.forEach((subscription) => subscription.unsubscribe());
  }, [client, epoch, me.userId]);
}
