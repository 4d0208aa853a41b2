import { LRUCache } from 'lru-cache';
import type { Access } from '../chat/access/access';
import type { CursorCodec } from '../chat/changes/cursor';
import { type Audience, inAudience } from '../chat/access/visibility';
import type { Actor } from '../chat/actor';
import type { Repositories } from '../chat/chat-repositories';
import { BadInputError } from '../chat/errors';
import type { ChatEvent } from '../chat/events';
import type { Message } from '../chat/messages/message.entity';
import { asSeenBy } from '../chat/changes/change.service';
import { comparePositions, parsePosition, type Position, positionOf, positionText } from '../chat/changes/versions';
import { fromOutside } from '../chat/reading/outside';
import { MembershipEventKind } from '../chat/types';
import { requireUuid } from '../chat/validation';
import type { EventBus, Watch } from './event-bus';
import { cancellable, EventQueue } from './event-queue';
import type { ReplayTurn } from './replay-gate';
import { roomTopic, userTopic } from './topics';

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
const REPLAY_BATCH = 100;

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
  async messageAdded(actor: Actor, roomId: string | null, since: string | null, turn?: ReplayTurn): Promise<AsyncGenerator<Delivery<Message>>> {
    if (since !== null && roomId === null) throw new BadInputError('since needs roomId');
    if (roomId === null) return this.messageAddedEverywhere(actor);
    const id = (await this.access.requireRoom(actor, roomId)).roomId;
    const { queue, watch } = this.open((e): e is EventOf<'messageAdded'> => e.kind === 'messageAdded');
    try {
      await watch.add(roomTopic(id));
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
      return this.stream(actor, queue, inOrder, replay, undefined, turn);
    } catch (error) {
      queue.close();
      throw error;
    }
  }

  /**
   * New messages of every room the actor sees, following them into rooms they
   * enter: the messages of a new room they may have missed while the stream
   * started to follow it are read from storage, each sent once.
   */
  private async messageAddedEverywhere(actor: Actor): Promise<AsyncGenerator<Delivery<Message>>> {
    const { queue, rooms } = await this.following(actor, (e): e is EventOf<'messageAdded'> => e.kind === 'messageAdded');
    // Rooms entered while streaming: the seq up to which their catch-up sent (or skipped) messages.
    const caughtUp = new Map<string, number>();
    const self = this;
    async function* deliveries(event: EventOf<'messageAdded'> | EventOf<'membershipChanged'>): AsyncGenerator<Delivery<Message>> {
      if (event.kind === 'membershipChanged') {
        if (await rooms.apply(event)) caughtUp.set(event.roomId, yield* self.storedAfter(actor, event.roomId, event.seq ?? 0, Number.MAX_SAFE_INTEGER));
        else if (event.change === MembershipEventKind.REMOVED) caughtUp.delete(event.roomId);
        return;
      }
      if (event.seq <= (caughtUp.get(event.roomId) ?? 0)) return;
      yield* self.current(event);
    }
    return this.stream(actor, queue, deliveries, undefined, (e) => e.kind === 'membershipChanged');
  }

  /**
   * Edits, deletions and reaction changes, of one room or of every room the
   * actor sees. With `since` (a Message.version or a ChangeBatch cursor) the
   * messages changed after it come first, oldest change first (new messages
   * included: it is a catch-up), then live changes; a message is never sent
   * twice at one version, so nothing is doubled across the switch. The
   * all-rooms stream catches up the same way on a room the actor enters.
   */
  async messageUpdated(actor: Actor, roomId: string | null, since: string | null = null, turn?: ReplayTurn): Promise<AsyncGenerator<Delivery<Message>>> {
    const from = since === null ? null : this.cursors.decode(since, 'since');
    const id = roomId === null ? null : (await this.access.requireRoom(actor, roomId)).roomId;
    type Queued = EventOf<'messageUpdated'> | EventOf<'membershipChanged'>;
    const isUpdate = (e: ChatEvent): e is EventOf<'messageUpdated'> => e.kind === 'messageUpdated';
    let queue: EventQueue<Queued>;
    let rooms: FollowedRooms | null = null;
    if (id === null) {
      ({ queue, rooms } = await this.following(actor, isUpdate));
    } else {
      const opened = this.open((e): e is Queued => isUpdate(e));
      queue = opened.queue;
      await opened.watch.add(roomTopic(id));
    }
    // The revision last sent of each message (bounded: a duplicate needs an event older than 10,000 others).
    const sent = new LRUCache<string, number>({ max: 10_000 });
    const fresh = (message: Message) => {
      if ((sent.get(message.id) ?? 0) >= message.revision) return false;
      sent.set(message.id, message.revision);
      return true;
    };
    const self = this;
    // Everything committed after `after` (live events follow the replay, so nothing waits for the watermark here).
    async function* changedAfter(after: Position, inRoom: string | null): AsyncGenerator<Delivery<Message>, void> {
      for (;;) {
        const { rows: batch } = await self.repos.changes.messagesAfter(actor.id, actor.companyId, after, REPLAY_BATCH, inRoom);
        // A room the actor has left since is read from outside: as it was, nothing of it now.
        for (const message of batch) if (fresh(message)) yield { key: batch, payload: asSeenBy(message) };
        if (batch.length < REPLAY_BATCH) return;
        after = positionOf(batch[batch.length - 1]);
      }
    }
    async function* changed(event: EventOf<'messageUpdated'> | EventOf<'membershipChanged'>): AsyncGenerator<Delivery<Message>> {
      if (event.kind === 'membershipChanged') {
        if (await rooms?.apply(event)) yield* changedAfter(parsePosition(event.position), event.roomId);
        return;
      }
      for await (const delivery of self.current(event)) if (fresh(delivery.payload)) yield delivery;
    }
    const replay = from === null ? undefined : () => changedAfter(from, id);
    return this.stream(actor, queue, changed, replay, (e) => e.kind === 'membershipChanged', turn);
  }

  /**
   * The actor's own membership changes, and changes to the members of rooms
   * the actor sees, following them into rooms they enter (the changes of a new
   * room's members they may have missed meanwhile are read from storage).
   */
  async membershipChanged(actor: Actor): Promise<AsyncGenerator<Delivery<EventOf<'membershipChanged'>>>> {
    const { queue, rooms } = await this.following(actor, (e): e is EventOf<'membershipChanged'> => e.kind === 'membershipChanged');
    // The position last sent of each membership: a change read in a catch-up may arrive live as well.
    const sent = new LRUCache<string, Position>({ max: 10_000 });
    const fresh = (event: EventOf<'membershipChanged'>) => {
      const position = parsePosition(event.position);
      const last = sent.get(event.memberId);
      if (last && comparePositions(last, position) >= 0) return false;
      sent.set(event.memberId, position);
      return true;
    };
    const self = this;
    async function* deliveries(event: EventOf<'membershipChanged'>): AsyncGenerator<Delivery<EventOf<'membershipChanged'>>> {
      // The actor's own change in a room they may not see (their removal): its room is seen from outside.
      if (fresh(event)) yield { key: event, payload: event.userId === actor.id && !(await self.admits(actor, event)) ? fromOutside(event) : event };
      if (event.userId !== actor.id || !(await rooms.apply(event)) || !(await self.admits(actor, event))) return;
      const missed = await self.repos.members.othersChangedAfter(event.roomId, actor.id, parsePosition(event.position));
      for (const m of missed) {
        const change = { kind: 'membershipChanged', change: m.change, roomId: m.roomId, memberId: m.id, userId: m.userId, position: positionText(positionOf(m)) } as const;
        if (fresh(change)) yield { key: change, payload: change };
      }
    }
    return this.stream(actor, queue, deliveries, undefined, (e) => e.userId === actor.id);
  }

  /** Typing in a room, from its other members; never stored, never echoed to the typist. */
  async typing(actor: Actor, roomId: string): Promise<AsyncGenerator<Delivery<EventOf<'typing'>>>> {
    const id = (await this.access.requireRoom(actor, roomId)).roomId;
    const { queue, watch } = this.open((e): e is EventOf<'typing'> => e.kind === 'typing' && e.userId !== actor.id);
    await watch.add(roomTopic(id));
    return this.stream(actor, queue, (e) => [{ key: e, payload: e }]);
  }

  /** Members' read positions moving forward in a room, to its active members (the reader included). */
  async readReceipt(actor: Actor, roomId: string): Promise<AsyncGenerator<Delivery<EventOf<'readReceipt'>>>> {
    const id = (await this.access.requireRoom(actor, roomId)).roomId;
    const { queue, watch } = this.open((e): e is EventOf<'readReceipt'> => e.kind === 'readReceipt');
    await watch.add(roomTopic(id));
    return this.stream(actor, queue, (e) => [{ key: e, payload: e }]);
  }

  /**
   * The one shape of every stream: an optional replay (when its `turn` comes:
   * one replay at a time per user, src/realtime/replay-gate.ts), then each
   * queued event the actor may receive (its room's audience, or `alsoFor` it)
   * turned into deliveries. Unsubscribing closes the queue, which ends the generator.
   */
  private stream<E extends ChatEvent & { roomId: string }, P>(
    actor: Actor,
    queue: EventQueue<E>,
    deliveries: (event: E) => Iterable<Delivery<P>> | AsyncIterable<Delivery<P>>,
    replay?: () => AsyncGenerator<Delivery<P>, void>,
    alsoFor: (event: E) => boolean = () => false,
    turn?: ReplayTurn,
  ): AsyncGenerator<Delivery<P>> {
    const self = this;
    async function* run(): AsyncGenerator<Delivery<P>> {
      try {
        if (replay) {
          const held = await turn?.();
          try {
            // Unsubscribed while waiting for its turn: nothing to replay for.
            if (!queue.isClosed) {
              let sent = 0;
              for await (const delivery of replay()) {
                // At the user's replay pace, a batch at a time, taken before it is sent (src/realtime/replay-gate.ts).
                if (held && sent++ % REPLAY_BATCH === 0) await held.pace(REPLAY_BATCH);
                yield delivery;
              }
            }
          } finally {
            held?.release();
          }
        }
        for await (const event of queue) {
          if (alsoFor(event) || (await self.admits(actor, event))) yield* deliveries(event);
        }
      } finally {
        queue.close();
      }
    }
    return cancellable(run(), queue);
  }

  /** A queue fed, from now on, by the events of the topics `watch` is given that `accept` lets through. */
  private open<E extends ChatEvent>(accept: (e: ChatEvent, topic: string) => e is E): { queue: EventQueue<E>; watch: Watch } {
    let watch: Watch | null = null;
    const queue = new EventQueue<E>(QUEUE_LIMIT, () => watch?.close());
    watch = this.bus.watch((event, topic) => {
      if (accept(event, topic)) queue.push(event);
    });
    return { queue, watch };
  }

  /**
   * The queue of an all-rooms stream: the events `accept` lets through from
   * every room the actor sees, and the actor's own membership changes (from
   * their own topic only: they come on the room's topic as well), which the
   * stream hands to `rooms.apply` to follow the actor in and out of rooms.
   * Resolves once every topic is subscribed.
   */
  private async following<E extends ChatEvent>(
    actor: Actor,
    accept: (e: ChatEvent) => e is E,
  ): Promise<{ queue: EventQueue<E | EventOf<'membershipChanged'>>; rooms: FollowedRooms }> {
    const own = userTopic(actor.id);
    const { queue, watch } = this.open(
      (e, topic): e is E | EventOf<'membershipChanged'> =>
        e.kind === 'membershipChanged' && e.userId === actor.id ? topic === own : accept(e),
    );
    try {
      const rooms = new FollowedRooms(watch);
      await watch.add(own);
      await rooms.start(await this.repos.members.visibleRoomIds(actor.id, actor.companyId));
      return { queue, rooms };
    } catch (error) {
      queue.close();
      throw error;
    }
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

/**
 * The room topics of one all-rooms stream: every room the actor sees when it
 * starts, then rooms entered added and rooms left dropped, as the actor's own
 * membership changes come (on the actor's topic, watched before the rooms are
 * listed, so an entry between the two is not missed).
 */
class FollowedRooms {
  constructor(private readonly watch: Watch) {}

  async start(roomIds: readonly string[]): Promise<void> {
    await Promise.all(roomIds.map((id) => this.watch.add(roomTopic(id))));
  }

  /**
   * Follows the room of an ADDED change (true when it was not followed yet:
   * the caller reads what it may have missed; its topic is subscribed by then),
   * stops following the room of a REMOVED one.
   */
  async apply(change: EventOf<'membershipChanged'>): Promise<boolean> {
    const topic = roomTopic(change.roomId);
    if (change.change === MembershipEventKind.REMOVED) {
      this.watch.remove(topic);
      return false;
    }
    if (change.change !== MembershipEventKind.ADDED || this.watch.has(topic)) return false;
    await this.watch.add(topic);
    return true;
  }
}
