import { ApolloClient, ApolloLink, HttpLink } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient, type Client } from 'graphql-ws';
import { throwError } from 'rxjs';
import { createCache } from './cache';

/**
 * Where the API is: this page's own origin (the API serves the built app), or
 * `?api=http://host:port` when the page is served from somewhere else.
 */
export const API_ORIGIN = new URLSearchParams(location.search).get('api') ?? location.origin;
const HTTP_URL = `${API_ORIGIN}/graphql`;
const WS_URL = `${API_ORIGIN.replace(/^http/, 'ws')}/graphql`;

export interface DevSession {
  token: string;
  userId: string;
  name: string;
}

/** POST /dev/token: the development tokens the API mints outside production (see the README). */
export async function fetchDevToken(claims: { name: string; userId?: string; companyId?: string }): Promise<DevSession> {
  const res = await fetch(`${API_ORIGIN}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(claims),
  });
  const body = (await res.json()) as { token?: string; userId?: string; error?: string };
  if (!res.ok || !body.token || !body.userId) throw new Error(body.error ?? `POST /dev/token answered ${res.status}`);
  return { token: body.token, userId: body.userId, name: claims.name };
}

export type Status = 'connecting' | 'online' | 'offline';

/**
 * One graphql-ws socket that can be closed ("go offline") and opened again.
 * `epoch` goes up on every successful (re)connection: components subscribe once
 * per epoch, so after a reconnect they subscribe again with fresh variables
 * (`since` = the newest message they hold) instead of the ones graphql-ws would
 * replay.
 */
export class Connection {
  status: Status = 'connecting';
  epoch = 0;
  private ws: Client | null = null;
  private wsLink: GraphQLWsLink | null = null;
  private listeners = new Set<() => void>();

  constructor(private readonly token: string) {}

  /** The Apollo link for subscriptions: whichever socket is current. */
  readonly link = new ApolloLink((operation) => {
    if (!this.wsLink) return throwError(() => new Error('offline'));
    return this.wsLink.request(operation);
  });

  open(): void {
    if (this.ws) return;
    const ws = createClient({
      url: WS_URL,
      connectionParams: { authorization: `Bearer ${this.token}` },
      lazy: false,
      retryAttempts: Infinity,
      // A fatal close (a refused token, say) ends the retries.
      onNonLazyError: () => this.set('offline'),
      on: {
        connecting: () => this.set('connecting'),
        connected: () => {
          this.epoch += 1;
          this.set('online');
        },
        closed: () => {
          if (this.ws === ws) this.set('connecting'); // graphql-ws retries by itself
        },
      },
    });
    this.ws = ws;
    this.wsLink = new GraphQLWsLink(ws);
  }

  /** Closes the socket for good (until open()): the way to test a reconnect. */
  close(): void {
    const ws = this.ws;
    this.ws = null;
    this.wsLink = null;
    this.set('offline');
    void ws?.dispose();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(status: Status): void {
    this.status = status;
    this.listeners.forEach((listener) => listener());
  }
}

/** Queries and mutations over HTTP, subscriptions over the socket, one normalised cache. */
export function createApolloClient(token: string, connection: Connection): ApolloClient {
  const http = new HttpLink({ uri: HTTP_URL, headers: { authorization: `Bearer ${token}` } });
  const isSubscription = ({ query }: ApolloLink.Operation) => {
    const definition = getMainDefinition(query);
    return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
  };
  return new ApolloClient({
    link: ApolloLink.split(isSubscription, connection.link, http),
    cache: createCache(),
  });
}
