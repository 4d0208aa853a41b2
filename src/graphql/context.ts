import type { Authenticated } from '../auth/authenticator';
import type { Actor } from '../chat/actor';
import type { Repositories } from '../chat/chat-repositories';
import type { ChatServices } from '../chat/chat-services';
import { UnauthenticatedError } from '../chat/errors';
import { RowReader } from '../chat/reading/row-reader';
import { ViewerReader } from '../chat/reading/viewer-reader';
import type { ChatStreams } from '../realtime/chat-streams';
import type { ReplayTurn } from '../realtime/replay-gate';

/**
 * What every resolver gets: made per HTTP request, and per event (by
 * src/transport/subscription-executor.ts) inside a subscription.
 */
export interface GraphQLContext {
  services: ChatServices;
  streams: ChatStreams;
  /**
   * The caller; throws UNAUTHENTICATED when the request carried no valid
   * token. Like viewer(), it throws in an execution shared by every recipient
   * of an event: a field that reads it is per viewer.
   */
  actor(): Actor;
  /** Reads whose answer does not depend on who asks; shared by every subscriber of an event. */
  rows(): RowReader;
  /**
   * The caller's own reads (visibility, unread counts, reactedByMe...). A field
   * that calls this must be declared `@Extensions({ perViewer: true })`:
   * a subscription event executed once for all its recipients has no viewer,
   * and this throws there (test/per-viewer-fields.test.ts holds every field to it).
   */
  viewer(): ViewerReader;
  /** Forgets what was read: a mutation's result must show the state after it. */
  freshReads(): void;
  /** How a subscription's `since` replay takes its turn (src/realtime/replay-gate.ts); unset: at once. */
  replayTurn?: ReplayTurn;
  /**
   * The context of one subscription event: the event's shared rows, and the
   * viewer's reads from `viewers` (null: the execution serves every recipient).
   */
  forEvent(rows: RowReader, viewers: EventViewers | null): GraphQLContext;
}

export interface ContextSources {
  services: ChatServices;
  streams: ChatStreams;
  repos: Repositories;
}

/** Who the request is: its verified token, or why it has none. */
export interface RequestAuth {
  /** Null without a token. */
  auth: Authenticated | null;
  /** Why the token was refused, if it was: thrown when a resolver needs the caller. */
  authError?: Error | null;
}

/** Thrown by viewer() where no viewer exists: an event executed once for every recipient. */
export class NoViewerError extends Error {
  override name = 'NoViewerError';
}

/**
 * The viewers' reads of one event, one reader per viewer: every execution of
 * the event for one user (their distinct subscriptions) shares its reads, so a
 * user holding many subscriptions costs the database what one costs.
 */
export type EventViewers = Map<string, ViewerReader>;

export function createContext(sources: ContextSources, requestAuth: RequestAuth, rows?: RowReader, viewers?: EventViewers | null): GraphQLContext {
  const viewerless = viewers === null;
  const { auth, authError } = requestAuth;
  const actor = (): Actor => {
    // The caller is a viewer too: an execution shared by every recipient of an event has none.
    if (viewerless) {
      throw new NoViewerError('A field that reads the caller was executed once for all subscribers: declare it @Extensions({ perViewer: true })');
    }
    if (authError) throw authError;
    if (!auth) throw new UnauthenticatedError('Authentication required: send Authorization: Bearer <token>');
    return auth.actor;
  };
  let shared = rows ?? null;
  let viewer: ViewerReader | null = null;
  const rowReader = () => (shared ??= new RowReader(sources.repos));
  return {
    services: sources.services,
    streams: sources.streams,
    actor,
    rows: rowReader,
    viewer: () => {
      if (viewer) return viewer;
      const me = actor();
      const key = `${me.id}:${me.companyId ?? ''}`;
      viewer = viewers?.get(key) ?? new ViewerReader(sources.repos, me, rowReader(), sources.services.presence);
      viewers?.set(key, viewer);
      return viewer;
    },
    freshReads: () => {
      shared?.clear();
      viewer = null;
    },
    forEvent: (eventRows, eventViewers) => createContext(sources, requestAuth, eventRows, eventViewers),
  };
}
