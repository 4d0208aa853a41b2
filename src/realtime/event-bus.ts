import type { ChatEvent, ChatEventPublisher } from '../chat/events';

/** The one channel every instance publishes chat events on. */
export const CHAT_TOPIC = 'chat-events';

/** The part of EventTarget the bus needs: an in-process one, or @graphql-yoga/redis-event-target. */
export interface ChatEventTarget {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
  dispatchEvent(event: Event): boolean;
}

type Listener = (event: ChatEvent) => void;

/**
 * Publishes chat events to every instance (through the event target) and hands
 * each incoming event, the same object, to this instance's listeners. Listeners
 * attach synchronously, so a subscription that attaches before reading stored
 * rows cannot miss an event published after that read.
 */
export class EventBus implements ChatEventPublisher {
  private readonly listeners = new Set<Listener>();
  private readonly onEvent = (event: Event) => {
    const detail = (event as CustomEvent<ChatEvent>).detail;
    if (!detail) return;
    for (const listener of this.listeners) listener(detail);
  };

  constructor(private readonly target: ChatEventTarget) {
    target.addEventListener(CHAT_TOPIC, this.onEvent);
  }

  publish(event: ChatEvent): void {
    this.target.dispatchEvent(new CustomEvent(CHAT_TOPIC, { detail: event }));
  }

  /** Calls `listener` for every event until the returned function is called. */
  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  close(): void {
    this.target.removeEventListener(CHAT_TOPIC, this.onEvent);
    this.listeners.clear();
  }
}
