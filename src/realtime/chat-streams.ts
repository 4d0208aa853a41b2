import { LRUCache } from 'lru-cache';
import type { Access } from '../chat/access/access';
import type { CursorCodec } from '../chat/changes/cursor';
import { type Audience, inAudience } from '../chat/access/visibility';
import type { Actor } from '../chat/actor';
import type { Repositories } from '../chat/chat-repositories';
import { BadInputError } from '../chat/errors';
import type { ChatEvent } from '../chat/events';
import type { Message } from '../chat/messages/message.table';
import { requireUuid } from '../chat/validation';
import type { EventBus } from './event-bus';
import { cancellable, EventQueue } from './event-queue';

type EventOf<K extends ChatEvent['kind']> = Extract<ChatEvent, { kind: K }>;

/**
 * What a stream yields: the payload, and the key of the event it belongs to.
 * Deliveries of one event share its key (and so its rows, and, where the
 * selection allows, one execution); replayed messages are keyed by their batch.
 */
export interface Delivery<T> {
  key: object;
  payload: T;
}

/** How many stored messages one replay read brings. */
const REPLAY_BATCH = 200;

/** Events buffered for a slow subscriber before its stream fails (it resubscribes with `since`). */
const QUEUE_LIMIT = 10_000;

/**
 * The rules of the live streams: who receives which event. The audience of an
 * event's room is read when the event arrives (once per event and server,
 * shared by every subscriber here), so a member removed a moment ago, or one
 * whose token now names another company, receives nothing more.
 */
export class ChatStreams {
  private readonly audiences = new WeakMap<object, Promise<Audience | null>>();
  private readonly messages = new WeakMap<object, Promise<Message | null>>();

  constructor(
    private readonly repos: Repositories,
    private readonly access: Access,
    private readonly bus: EventBus,
    private readonly cursors: CursorCodec,
  ) {}

  /**
   * New messages of one room (in seq order, with no gap: a live event that
   * skips ahead is filled from storage), or of every room the actor sees.
   * With `since`, the stored messages after it come first.
   */
  async messageAdded(actor: Actor, roomId: string | null, since: string | null): Promise<AsyncGenerator<Delivery<Message>>> {
    if (since !== null && roomId === null) throw new BadInputError('since needs roomId');
    if (roomId === null) {
      return this.stream(actor, this.queue((e): e is EventOf<'messageAdded'> => e.kind === 'messageAdded'), (e) => this.current(e));
    }
    const id = (await this.access.requireRoom(actor, roomId)).roomId;
    const queue = this.queue((e): e is EventOf<'messageAdded'> => e.kind === 'messageAdded' && e.roomId === id);
    try {
      let lastSeq: number;
      if (since !== null) {
        const sinceId = requireUuid('since', since);
        const anchor = await this.repos.messages.findById(sinceId);
        if (!anchor || anchor.roomId !== id) throw new BadInputError('since must name a message of the room roomId');
        lastSeq = anchor.seq;
      } else {
        lastSeq = (await this.repos.rooms.ensureExists(id)).lastSeq;
      }
      const self = this;
      // Events of concurrent senders can arrive out of order: a gap is read, in order, from storage.
      async function* inOrder(event: EventOf<'messageAdded'>): AsyncGenerator<Delivery<Message>> {
        if (event.seq <= lastSeq) return;
        if (event.seq === lastSeq + 1) {
          lastSeq = event.seq;
          const message = await self.messageOf(event);
          if (message && !message.isDeleted) yield { key: event, payload: message };
        } else {
          lastSeq = yield* self.storedAfter(actor, id, lastSeq, event.seq);
        }
      }
      const replay = since === null ? undefined : async function* () {
        lastSeq = yield* self.storedAfter(actor, id, lastSeq, Number.MAX_SAFE_INTEGER);
      };
      return this.stream(actor, queue, inOrder, replay);
    } catch (error) {
      queue.close();
      throw error;
    }
  }

  /**
   * Edits, deletions and reaction changes, of one room or of every room the
   * actor sees. With `since` (a Message.version or a ChangeBatch cursor) the
   * messages changed after it come first, oldest change first (new messages
   * included: it is a catch-up), then live changes; a message is never sent
   * twice at one version, so nothing is doubled across the switch.
   */
  async messageUpdated(actor: Actor, roomId: string | null, since: string | null = null): Promise<AsyncGenerator<Delivery<Message>>> {
    const from = since === null ? null : this.cursors.decode(since, 'since');
    const id = roomId === null ? null : (await this.access.requireRoom(actor, roomId)).roomId;
    const queue = this.queue((e): e is EventOf<'messageUpdated'> => e.kind === 'messageUpdated' && (id === null || e.roomId === id));
    // The version last sent of each message (bounded: a duplicate needs an event older than 10,000 others).
    const sent = new LRUCache<string, bigint>({ max: 10_000 });
    const fresh = (message: Message) => {
      const version = BigInt(message.version);
      if ((sent.get(message.id) ?? -1n) >= version) return false;
      sent.set(message.id, version);
      return true;
    };
    const self = this;
    async function* changed(event: EventOf<'messageUpdated'>): AsyncGenerator<Delivery<Message>> {
      for await (const delivery of self.current(event)) if (fresh(delivery.payload)) yield delivery;
    }
    const replay =
      from === null
        ? undefined
        : async function* (): AsyncGenerator<Delivery<Message>, void> {
            for (let after = from; ; ) {
              const batch = await self.repos.changes.messagesAfter(actor.id, actor.companyId, after, REPLAY_BATCH, id);
              for (const message of batch) if (fresh(message)) yield { key: batch, payload: message };
              if (batch.length < REPLAY_BATCH) return;
              after = batch[batch.length - 1].version;
            }
          };
    return this.stream(actor, queue, changed, replay);
  }

  /** The actor's own membership changes, and changes to the members of rooms the actor sees. */
  async membershipChanged(actor: Actor): Promise<AsyncGenerator<Delivery<EventOf<'membershipChanged'>>>> {
    const queue = this.queue((e): e is EventOf<'membershipChanged'> => e.kind === 'membershipChanged');
    return this.stream(actor, queue, (e) => [{ key: e, payload: e }], undefined, (e) => e.userId === actor.id);
  }

  /** Typing in a room, from its other members; never stored, never echoed to the typist. */
  async typing(actor: Actor, roomId: string): Promise<AsyncGenerator<Delivery<EventOf<'typing'>>>> {
    const id = (await this.access.requireRoom(actor, roomId)).roomId;
    const queue = this.queue((e): e is EventOf<'typing'> => e.kind === 'typing' && e.roomId === id && e.userId !== actor.id);
    return this.stream(actor, queue, (e) => [{ key: e, payload: e }]);
  }

  /** Members' read positions moving forward in a room, to its active members (the reader included). */
  async readReceipt(actor: Actor, roomId: string): Promise<AsyncGenerator<Delivery<EventOf<'readReceipt'>>>> {
    const id = (await this.access.requireRoom(actor, roomId)).roomId;
    const queue = this.queue((e): e is EventOf<'readReceipt'> => e.kind === 'readReceipt' && e.roomId === id);
    return this.stream(actor, queue, (e) => [{ key: e, payload: e }]);
  }

  /**
   * The one shape of every stream: an optional replay, then each queued event
   * the actor may receive (its room's audience, or `alsoFor` it) turned into
   * deliveries. Unsubscribing closes the queue, which ends the generator.
   */
  private stream<E extends ChatEvent & { roomId: string }, P>(
    actor: Actor,
    queue: EventQueue<E>,
    deliveries: (event: E) => Iterable<Delivery<P>> | AsyncIterable<Delivery<P>>,
    replay?: () => AsyncGenerator<Delivery<P>, void>,
    alsoFor: (event: E) => boolean = () => false,
  ): AsyncGenerator<Delivery<P>> {
    const self = this;
    async function* run(): AsyncGenerator<Delivery<P>> {
      try {
        if (replay) yield* replay();
        for await (const event of queue) {
          if (alsoFor(event) || (await self.admits(actor, event))) yield* deliveries(event);
        }
      } finally {
        queue.close();
      }
    }
    return cancellable(run(), queue);
  }

  /** Attaches a queue to the bus now (before any read), keeping the events `accept` lets through. */
  private queue<E extends ChatEvent>(accept: (e: ChatEvent) => e is E): EventQueue<E> {
    let detach = () => {};
    const queue = new EventQueue<E>(QUEUE_LIMIT, () => detach());
    detach = this.bus.listen((event) => {
      if (accept(event)) queue.push(event);
    });
    return queue;
  }

  /** Whether the actor was in the audience of the event's room when it arrived (read once per event). */
  private async admits(actor: Actor, event: { roomId: string }): Promise<boolean> {
    let audience = this.audiences.get(event);
    if (!audience) this.audiences.set(event, (audience = this.repos.members.audience(event.roomId)));
    const found = await audience;
    return found !== null && inAudience(actor, found);
  }

  /** The message as it is now (read once per event and server: the state after the change, deleted content wiped). */
  private messageOf(event: { messageId: string }): Promise<Message | null> {
    let message = this.messages.get(event);
    if (!message) this.messages.set(event, (message = this.repos.messages.findById(event.messageId)));
    return message;
  }

  private async *current(event: EventOf<'messageAdded'> | EventOf<'messageUpdated'>): AsyncGenerator<Delivery<Message>> {
    const message = await this.messageOf(event);
    if (message) yield { key: event, payload: message };
  }

  /** Stored messages with lastSeq < seq <= untilSeq, oldest first; returns the last seq passed. */
  private async *storedAfter(actor: Actor, roomId: string, lastSeq: number, untilSeq: number): AsyncGenerator<Delivery<Message>, number> {
    let seq = lastSeq;
    for (;;) {
      const batch = (await this.repos.messages.getMessagesAfter(roomId, seq, REPLAY_BATCH)).filter((m) => m.seq <= untilSeq);
      if (batch.length === 0) return seq;
      const [visible] = await this.repos.members.findVisible(actor.id, actor.companyId, [roomId]);
      if (!visible) return Number.MAX_SAFE_INTEGER;
      for (const message of batch) {
        seq = message.seq;
        if (!message.isDeleted) yield { key: batch, payload: message };
      }
      if (batch.length < REPLAY_BATCH || seq >= untilSeq) return seq;
    }
  }
}
