import { InMemoryCache, type ApolloCache, type FieldMergeFunction, type Reference } from '@apollo/client';
import { MESSAGE_FIELDS, MESSAGES, THREAD, type ChatMessage } from './operations';

export const PAGE_SIZE = 20;
export const THREAD_PAGE_SIZE = 30;

/** Every page of a list of messages (newest first) merged by id, ordered by seq. */
const mergeBySeq: FieldMergeFunction<readonly Reference[], readonly Reference[]> = (existing = [], incoming, { readField }) => {
  const byId = new Map<string, Reference>();
  for (const ref of [...existing, ...incoming]) byId.set(readField<string>('id', ref) as string, ref);
  return [...byId.values()].sort((a, b) => (readField<number>('seq', b) ?? 0) - (readField<number>('seq', a) ?? 0));
};

/**
 * Messages are normalised by id (Message:<id>), and each room's history is one
 * list, whatever page or source filled it: the first page, "load older"
 * (`before`), the send mutation's result, a subscription or a replay after a
 * reconnect. Merging by id keeps every message exactly once; seq keeps the order.
 * A thread's replies are one list the same way.
 */
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          messages: { keyArgs: ['roomId'], merge: mergeBySeq },
          thread: { keyArgs: ['parentId'], merge: mergeBySeq },
          // `message(id)` is Message:<id> when the cache has it (a thread root shown in the room, say): no request.
          message: {
            read: (existing, { args, toReference }) => existing ?? toReference({ __typename: 'Message', id: args?.id as string }),
          },
        },
      },
      Message: {
        fields: {
          reactions: { merge: false },
          edits: { merge: false },
          mentions: { merge: false },
          threadParticipants: { merge: false },
          readBy: { merge: false },
          attachments: { merge: false },
        },
      },
      Room: { fields: { members: { merge: false }, pinnedMessages: { merge: false } } },
    },
  });
}

const historyOf = (roomId: string) => ({ roomId, limit: PAGE_SIZE });
const threadOf = (parentId: string) => ({ parentId, limit: THREAD_PAGE_SIZE });

/** Room history holds top-level messages, and replies only when they were also sent to the room. */
export const inHistory = (message: ChatMessage) => !message.parent || message.alsoInRoom;

/**
 * Adds a new message where it shows: its room's history and, for a reply, its
 * thread; each only if it is loaded (otherwise its first query fetches it).
 */
export function addMessage(cache: ApolloCache, message: ChatMessage): void {
  if (inHistory(message)) addToHistory(cache, message);
  if (message.parent) addToThread(cache, message);
}

function addToHistory(cache: ApolloCache, message: ChatMessage): void {
  const variables = historyOf(message.room.id);
  if (cache.readQuery({ query: MESSAGES, variables })) cache.writeQuery({ query: MESSAGES, variables, data: { messages: [message] } });
}

function addToThread(cache: ApolloCache, message: ChatMessage): void {
  if (!message.parent) return;
  const variables = threadOf(message.parent.id);
  if (cache.readQuery({ query: THREAD, variables })) cache.writeQuery({ query: THREAD, variables, data: { thread: [message] } });
}

/** The newest message of a room's loaded history, deleted ones included: where a resumed subscription starts. */
export function newestLoaded(cache: ApolloCache, roomId: string): ChatMessage | undefined {
  return cache.readQuery({ query: MESSAGES, variables: historyOf(roomId) })?.messages[0];
}

/**
 * Whether a message from the change feed is newer than everything its list
 * holds (a loaded, empty list holds nothing older either). Only such a message
 * may join a list: an older one would sit above a gap of messages never loaded.
 */
function newerThanLoaded(list: readonly ChatMessage[] | undefined, message: ChatMessage): boolean {
  return list !== undefined && (list.length === 0 || message.seq > list[0].seq);
}

/**
 * Merges a message from the change feed (catch-up, messageUpdated). One sent
 * meanwhile joins its history or thread; any other only updates Message:<id>,
 * which every list holding it reads. A change of pin also moves it in or out of
 * its room's pins list.
 */
export function mergeChange(cache: ApolloCache, message: ChatMessage): void {
  cache.writeFragment({ id: cache.identify(message), fragment: MESSAGE_FIELDS, fragmentName: 'MessageFields', data: message });
  if (inHistory(message)) {
    const history = cache.readQuery({ query: MESSAGES, variables: historyOf(message.room.id) })?.messages;
    if (newerThanLoaded(history, message)) addToHistory(cache, message);
  }
  if (message.parent) {
    const thread = cache.readQuery({ query: THREAD, variables: threadOf(message.parent.id) })?.thread;
    if (newerThanLoaded(thread, message)) addToThread(cache, message);
  }
  syncPins(cache, message);
}

/**
 * Keeps Room.pinnedMessages (if loaded) in step with a message's pinnedAt:
 * pinned ones in, most recently pinned first; unpinned (or deleted) ones out.
 * The message must already be in the cache.
 */
export function syncPins(cache: ApolloCache, message: ChatMessage): void {
  cache.modify<{ pinnedMessages: Reference[] }>({
    id: cache.identify({ __typename: 'Room', id: message.room.id }),
    fields: {
      pinnedMessages(existing, { readField, toReference }) {
        const others = existing.filter((ref) => readField<string>('id', ref) !== message.id);
        const ref = message.pinnedAt ? toReference({ __typename: 'Message', id: message.id }) : undefined;
        if (!ref) return others;
        const pinnedAt = (r: Reference) => readField<string>('pinnedAt', r) ?? '';
        return [ref, ...others].sort((a, b) => pinnedAt(b).localeCompare(pinnedAt(a)));
      },
    },
  });
}
