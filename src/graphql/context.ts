import type { Authenticated } from '../auth/authenticator';
import type { Actor } from '../chat/actor';
import type { ChatRepositories } from '../chat/chat-repositories';
import type { ChatServices } from '../chat/chat-services';
import { UnauthenticatedError } from '../chat/errors';
import { ChatReader } from '../chat/reading/chat-reader';
import type { RowSource } from '../chat/reading/row-source';
import type { ChatStreams } from '../realtime/chat-streams';

/** What every resolver gets. Made per HTTP request, and per event inside a subscription. */
export interface GraphQLContext {
  services: ChatServices;
  streams: ChatStreams;
  /** The caller; throws UNAUTHENTICATED when the request carried no valid token. */
  actor(): Actor;
  /** The caller's batched, visibility-checked reads; fresh per request. */
  reader(): ChatReader;
  /**
   * Starts a fresh reader: a subscription's context lives long, its loaders must
   * not. `rows` are the event's rows, shared with its other subscribers.
   */
  renewReader(rows?: RowSource): void;
}

export interface ContextSources {
  services: ChatServices;
  streams: ChatStreams;
  repos: ChatRepositories;
  /** Null without a token. */
  auth: Authenticated | null;
  /** Why the token was refused, if it was: thrown when a resolver needs the caller. */
  authError?: Error | null;
}

export function createContext({ services, streams, repos, auth, authError }: ContextSources): GraphQLContext {
  let reader: ChatReader | null = null;
  let rows: RowSource | undefined;
  const actor = (): Actor => {
    if (authError) throw authError;
    if (!auth) throw new UnauthenticatedError('Authentication required: send Authorization: Bearer <token>');
    return auth.actor;
  };
  return {
    services,
    streams,
    actor,
    reader: () => (reader ??= new ChatReader(repos, actor(), rows)),
    // Lazy: an event whose selection needs no loader (ids and content only) builds none.
    renewReader: (eventRows?: RowSource) => {
      reader = null;
      rows = eventRows;
    },
  };
}
