import type { Actor } from '../chat/actor';
import type { ChatRepositories } from '../chat/chat-repositories';
import { BadInputError } from '../chat/errors';
import type { MemberService } from '../chat/members/member.service';
import type { ChatEvent } from '../chat/events';
import type { Message } from '../chat/messages/message.entity';
import { EventRows, repositoryRows, type RowSource } from '../chat/reading/row-source';
import { requireUuid } from '../chat/validation';
import type { EventBus } from './event-bus';
import { cancellable, EventQueue } from './event-queue';

type EventOf<K extends ChatEvent['kind']> = Extract<ChatEvent, { kind: K }>;

/** What a stream yields: the payload, and the rows its subscribers share for this event. */
export interface Delivery<T> {
  payload: T;
  rows: RowSource;
}

/** How many stored messages one replay read brings. */
const REPLAY_BATCH = 200;

/**
 * The rules of the live streams: who receives which event. Membership is read
 * per event (once per event and instance, shared by every subscriber of that
 * instance), so a member removed a moment ago receives nothing more.
 */
export class ChatStreams {
  private readonly activeMembers = new WeakMap<object, Promise<Set<string>>>();
  private readonly messages = new WeakMap<object, Promise<Message | null>>();
  private readonly rows = new WeakMap<object, EventRows>();

  constructor(
    private readonly repos: ChatRepositories,
    private readonly members: MemberService,
    private readonly bus: EventBus,
  ) {}

  /** Who was an active member of the event's room when it arrived. */
  private membersAt(event: { roomId: string }): Promise<Set<string>> {
    let members = this.activeMembers.get(event);
    if (!members) {
      members = this.repos.members.getByRoom(event.roomId, true).then((ms) => new Set(ms.map((m) => m.userId)));
      this.activeMembers.set(event, members);
    }
    return members;
  }

  /** The rows every subscriber of this instance reads for `event`, fetched once. */
  private rowsOf(event: object): EventRows {
    let rows = this.rows.get(event);
    if (!rows) {
      rows = new EventRows(repositoryRows(this.repos));
      this.rows.set(event, rows);
    }
    return rows;
  }

  private deliver<T>(event: object, payload: T): Delivery<T> {
    return { payload, rows: this.rowsOf(event) };
  }

  private messageOf(event: { messageId: string }): Promise<Message | null> {
    let message = this.messages.get(event);
    if (!message) {
      message = this.repos.messages.findById(event.messageId);
      this.messages.set(event, message);
    }
    return message;
  }

  /** The room's id when the actor is an active member; NOT_FOUND otherwise, as on HTTP. */
  private async requireMember(actor: Actor, roomId: string): Promise<string> {
    return (await this.members.requireActiveMember(actor, roomId)).roomId;
  }

  /** Attaches a queue to the bus now (before any read), keeping the events `accept` lets through. */
  private queue<E extends ChatEvent>(accept: (e: ChatEvent) => e is E): EventQueue<E> {
    let detach = () => {};
    const queue = new EventQueue<E>(10_000, () => detach());
    detach = this.bus.listen((event) => {
      if (accept(event)) queue.push(event);
    });
    return queue;
  }

  /**
   * New messages of one room (in seq order, with no gap: a live event that
   * skips ahead is filled from storage), or of every room the actor is in.
   * With `since`, the stored messages after it come first.
   */
  async messageAdded(actor: Actor, roomId: string | null, since: string | null): Promise<AsyncGenerator<Delivery<Message>>> {
    if (since !== null && roomId === null) throw new BadInputError('since needs roomId');
    if (roomId === null) return this.messagesOfAllRooms(actor);
    const id = await this.requireMember(actor, roomId);
    const queue = this.queue((e): e is EventOf<'messageAdded'> => e.kind === 'messageAdded' && e.roomId === id);
    try {
      let fromSeq: number;
      if (since !== null) {
        const sinceId = requireUuid('since', since);
        const anchor = await this.repos.messages.findById(sinceId);
        if (!anchor || anchor.roomId !== id) throw new BadInputError('since must name a message of the room roomId');
        fromSeq = anchor.seq;
      } else {
        fromSeq = (await this.repos.rooms.ensureExists(id)).lastSeq;
      }
      return cancellable(this.roomMessages(actor, id, fromSeq, since !== null, queue), queue);
    } catch (error) {
      queue.close();
      throw error;
    }
  }

  private async *roomMessages(
    actor: Actor,
    roomId: string,
    fromSeq: number,
    replay: boolean,
    queue: EventQueue<EventOf<'messageAdded'>>,
  ): AsyncGenerator<Delivery<Message>> {
    let lastSeq = fromSeq;
    try {
      if (replay) lastSeq = yield* this.storedAfter(actor, roomId, lastSeq, Number.MAX_SAFE_INTEGER);
      for await (const event of queue) {
        if (event.seq <= lastSeq) continue;
        if (!(await this.membersAt(event)).has(actor.id)) continue;
        if (event.seq === lastSeq + 1) {
          const message = await this.messageOf(event);
          lastSeq = event.seq;
          if (message && !message.isDeleted) yield this.deliver(event, message);
        } else {
          // Events of concurrent senders can arrive out of order: read the gap, in order, from storage.
          lastSeq = yield* this.storedAfter(actor, roomId, lastSeq, event.seq);
        }
      }
    } finally {
      queue.close();
    }
  }

  /** Stored messages with lastSeq < seq <= untilSeq, oldest first; returns the last seq passed. */
  private async *storedAfter(actor: Actor, roomId: string, lastSeq: number, untilSeq: number): AsyncGenerator<Delivery<Message>, number> {
    let seq = lastSeq;
    for (;;) {
      const batch = (await this.repos.messages.getMessagesAfter(roomId, seq, REPLAY_BATCH)).filter((m) => m.seq <= untilSeq);
      if (batch.length === 0) return seq;
      const me = await this.repos.members.findByRoomAndUser(roomId, actor.id);
      if (!me?.isActive) return Number.MAX_SAFE_INTEGER;
      for (const message of batch) {
        seq = message.seq;
        if (!message.isDeleted) yield this.deliver(batch, message);
      }
      if (batch.length < REPLAY_BATCH || seq >= untilSeq) return seq;
    }
  }

  private messagesOfAllRooms(actor: Actor): AsyncGenerator<Delivery<Message>> {
    const queue = this.queue((e): e is EventOf<'messageAdded'> => e.kind === 'messageAdded');
    const self = this;
    async function* run(): AsyncGenerator<Delivery<Message>> {
      for await (const event of queue) {
        if (!(await self.membersAt(event)).has(actor.id)) continue;
        const message = await self.messageOf(event);
        if (message) yield self.deliver(event, message);
      }
    }
    return cancellable(run(), queue);
  }

  /** Edits, deletions and reaction changes, of one room or of every room the actor is in. */
  async messageUpdated(actor: Actor, roomId: string | null): Promise<AsyncGenerator<Delivery<Message>>> {
    const id = roomId === null ? null : await this.requireMember(actor, roomId);
    const queue = this.queue(
      (e): e is EventOf<'messageUpdated'> => e.kind === 'messageUpdated' && (id === null || e.roomId === id),
    );
    const self = this;
    async function* run(): AsyncGenerator<Delivery<Message>> {
      for await (const event of queue) {
        if (!(await self.membersAt(event)).has(actor.id)) continue;
        // Read once per event and instance: the state after the change, deleted content already wiped.
        const message = await self.messageOf(event);
        if (message) yield self.deliver(event, message);
      }
    }
    return cancellable(run(), queue);
  }

  /** The actor's own membership changes, and changes to the members of rooms the actor is in. */
  async membershipChanged(actor: Actor): Promise<AsyncGenerator<Delivery<EventOf<'membershipChanged'>>>> {
    const queue = this.queue((e): e is EventOf<'membershipChanged'> => e.kind === 'membershipChanged');
    const self = this;
    async function* run(): AsyncGenerator<Delivery<EventOf<'membershipChanged'>>> {
      for await (const event of queue) {
        if (event.userId === actor.id || (await self.membersAt(event)).has(actor.id)) yield self.deliver(event, event);
      }
    }
    return cancellable(run(), queue);
  }

  /** Typing in a room, from its other members; never stored, never echoed to the typist. */
  async typing(actor: Actor, roomId: string): Promise<AsyncGenerator<Delivery<EventOf<'typing'>>>> {
    const id = await this.requireMember(actor, roomId);
    const queue = this.queue(
      (e): e is EventOf<'typing'> => e.kind === 'typing' && e.roomId === id && e.userId !== actor.id,
    );
    const self = this;
    async function* run(): AsyncGenerator<Delivery<EventOf<'typing'>>> {
      for await (const event of queue) {
        if ((await self.membersAt(event)).has(actor.id)) yield self.deliver(event, event);
      }
    }
    return cancellable(run(), queue);
  }
}
