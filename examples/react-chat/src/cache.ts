import { InMemoryCache, type ApolloCache, type Reference } from '@apollo/client';
import { MESSAGE_FIELDS, MESSAGES, type ChatMessage } from './operations';

export const PAGE_SIZE = 20;

/**
 * Messages are normalised by id (Message:<id>), and each room's history is one
 * list, whatever page or source filled it: the first page, "load older"
 * (`before`), the send mutation's result, a subscription or a replay after a
 * reconnect. Merging by id keeps every message exactly once; seq keeps the order.
 */
export function createCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          messages: {
            keyArgs: ['roomId'],
            merge(existing: readonly Reference[] = [], incoming: readonly Reference[], { readField }) {
              const byId = new Map<string, Reference>();
              for (const ref of [...existing, ...incoming]) byId.set(readField<string>('id', ref) as string, ref);
              return [...byId.values()].sort((a, b) => (readField<number>('seq', b) ?? 0) - (readField<number>('seq', a) ?? 0));
            },
          },
        },
      },
      Message: { fields: { reactions: { merge: false } } },
      Room: { fields: { members: { merge: false } } },
    },
  });
}

/** Adds a message to its room's history, if that history is loaded (otherwise the room's first query fetches it). */
export function addToHistory(cache: ApolloCache, message: ChatMessage): void {
  const variables = { roomId: message.room.id, limit: PAGE_SIZE };
  if (!cache.readQuery({ query: MESSAGES, variables })) return;
  cache.writeQuery({ query: MESSAGES, variables, data: { messages: [message] } });
}

/** The newest message of a room's loaded history, deleted ones included: where a resumed subscription starts. */
export function newestLoaded(cache: ApolloCache, roomId: string): ChatMessage | undefined {
  const data = cache.readQuery({ query: MESSAGES, variables: { roomId, limit: PAGE_SIZE } });
  return data?.messages[0];
}

/**
 * Merges a message from the change feed (catch-up, messageUpdated). One newer
 * than its room's loaded history was sent meanwhile and joins it; any other only
 * updates Message:<id>, which every list holding it reads (an old message must
 * not join the list: it would sit above a gap of messages never loaded).
 */
export function mergeChange(cache: ApolloCache, message: ChatMessage): void {
  const newest = newestLoaded(cache, message.room.id);
  if (newest && message.seq > newest.seq) addToHistory(cache, message);
  else cache.writeFragment({ id: cache.identify(message), fragment: MESSAGE_FIELDS, fragmentName: 'MessageFields', data: message });
}
