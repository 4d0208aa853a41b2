import type { ChatEvent } from '../chat/events';

/** Hands an event that arrived on a topic to this server's listeners. */
export type Deliver = (topic: string, event: ChatEvent) => void;

/**
 * Carries events between servers, topic by topic: in-process (one server), or
 * Redis sharded pub/sub (src/realtime/redis-broker.ts). The bus subscribes a
 * topic while this server has a listener for it, and only then.
 */
export interface Broker {
  /** Sends to every server subscribed to `topic`, this one included. Never throws: a lost event is logged. */
  publish(topic: string, event: ChatEvent): void;
  /** Starts receiving `topic`; resolves once its events are on their way here (or, while Redis is away, once that is logged). */
  subscribe(topic: string): Promise<void>;
  unsubscribe(topic: string): void;
  /** Reachability for /ready; null when there is nothing to reach. */
  readonly ping: (() => Promise<boolean>) | null;
  close(): Promise<void>;
}

/** One server: publishing is delivering, synchronously, to this server's listeners. */
export class InProcessBroker implements Broker {
  readonly ping = null;

  constructor(private readonly deliver: Deliver) {}

  publish(topic: string, event: ChatEvent): void {
    this.deliver(topic, event);
  }

  async subscribe(): Promise<void> {}

  unsubscribe(): void {}

  async close(): Promise<void> {}
}
