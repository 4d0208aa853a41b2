import type { ChatEvent, ChatEventPublisher } from '../chat/events';
import type { Broker, Deliver } from './broker';
import { topicsOf } from './topics';

/** Called with each event of a watched topic, and the topic it came on. */
export type Listener = (event: ChatEvent, topic: string) => void;

interface TopicEntry {
  listeners: Set<Listener>;
  /** Resolves once the broker carries the topic to this server. */
  subscribed: Promise<void>;
}

/** What the bus has carried, for the scale tests and benchmarks. */
export interface BusStats {
  /** Events this server handed to the broker, once per topic. */
  published: number;
  /** Events that arrived on a topic this server watches, once per topic. */
  received: number;
  /** Listener calls: an event reaching a subscription that may want it. */
  dispatched: number;
}

/**
 * Publishes chat events on their topics (src/realtime/topics.ts) and hands an
 * arriving event, the same object, to the listeners of its topic only: the
 * work of an event grows with its audience, not with every subscription of
 * the server. The broker is asked for a topic when its first local listener
 * comes and released when its last one goes, so a server receives only the
 * events somebody here may want.
 */
export class EventBus implements ChatEventPublisher {
  private readonly topics = new Map<string, TopicEntry>();
  readonly stats: BusStats = { published: 0, received: 0, dispatched: 0 };
  readonly broker: Broker;

  /** @param connect makes the broker, which hands arriving events to the bus. */
  constructor(connect: (deliver: Deliver) => Broker) {
    this.broker = connect((topic, event) => this.deliver(topic, event));
  }

  publish(event: ChatEvent): void {
    for (const topic of topicsOf(event)) {
      this.stats.published += 1;
      this.broker.publish(topic, event);
    }
  }

  private deliver(topic: string, event: ChatEvent): void {
    const entry = this.topics.get(topic);
    if (!entry) return;
    this.stats.received += 1;
    for (const listener of entry.listeners) {
      this.stats.dispatched += 1;
      listener(event, topic);
    }
  }

  /** A new set of topics for `listener`, empty until `add`ed to. */
  watch(listener: Listener): Watch {
    return new Watch(this, listener);
  }

  /** Subscriptions listening, counted once per topic they watch. */
  get listenerCount(): number {
    let count = 0;
    for (const entry of this.topics.values()) count += entry.listeners.size;
    return count;
  }

  /** Topics this server receives now. */
  get topicCount(): number {
    return this.topics.size;
  }

  /** @internal Watch's half: the listener hears the topic now; the promise says when other servers' events do too. */
  attach(topic: string, listener: Listener): Promise<void> {
    let entry = this.topics.get(topic);
    if (!entry) {
      entry = { listeners: new Set(), subscribed: this.broker.subscribe(topic) };
      this.topics.set(topic, entry);
    }
    entry.listeners.add(listener);
    return entry.subscribed;
  }

  /** @internal */
  detach(topic: string, listener: Listener): void {
    const entry = this.topics.get(topic);
    if (!entry?.listeners.delete(listener) || entry.listeners.size > 0) return;
    this.topics.delete(topic);
    this.broker.unsubscribe(topic);
  }

  async close(): Promise<void> {
    this.topics.clear();
    await this.broker.close();
  }
}

/**
 * The topics one stream listens to. A room stream watches its room; an
 * all-rooms stream its user and every room it may see, changing as the user
 * enters and leaves rooms.
 */
export class Watch {
  private readonly topics = new Set<string>();

  constructor(
    private readonly bus: EventBus,
    private readonly listener: Listener,
  ) {}

  /**
   * Listens to `topic` from now on (synchronously, on this server); resolves
   * once events published on other servers arrive too. A stream reads stored
   * rows only after that, so no event falls between the read and the live ones.
   */
  add(topic: string): Promise<void> {
    this.topics.add(topic);
    return this.bus.attach(topic, this.listener);
  }

  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  remove(topic: string): void {
    if (this.topics.delete(topic)) this.bus.detach(topic, this.listener);
  }

  close(): void {
    for (const topic of this.topics) this.bus.detach(topic, this.listener);
    this.topics.clear();
  }
}
