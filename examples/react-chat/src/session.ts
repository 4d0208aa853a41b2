import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Connection, DevSession } from './connection';

/** Per tab (sessionStorage), so two tabs can be two users. */
const KEY = 'chat-example-session';

export function loadSession(): DevSession | null {
  const raw = sessionStorage.getItem(KEY);
  return raw ? (JSON.parse(raw) as DevSession) : null;
}

export function saveSession(session: DevSession | null): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
}

export const ChatContext = createContext<{ me: DevSession; connection: Connection } | null>(null);

export function useChat() {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error('useChat outside <ChatContext>');
  return chat;
}

/** The socket's status and epoch (bumped on every (re)connection), as React state. */
export function useConnectionState() {
  const { connection } = useChat();
  const subscribe = (listener: () => void) => connection.subscribe(listener);
  const status = useSyncExternalStore(subscribe, () => connection.status);
  const epoch = useSyncExternalStore(subscribe, () => connection.epoch);
  return { connection, status, epoch };
}
