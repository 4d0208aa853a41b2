import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatEventPublisher } from '../events';

/** At most one typing event per user and room in this many ms; calls in between are coalesced. @default 1000 */
export const TYPING_INTERVAL_MS = 1000;

interface Slot {
  /** The latest state asked for while the interval runs (null: no call since); sent when it ends. */
  pending: boolean | null;
  roomId: string;
  userId: string;
  timer: NodeJS.Timeout;
}

/**
 * Typing indicators: published to the room's other members, never stored.
 * Clients call setTyping on every keystroke; a user's events in a room are
 * coalesced to one per interval: the first at once, then, if calls came
 * during the interval, the latest state at its end, even when it is the state
 * last published (a "still typing" reaches subscribers who joined since, and
 * one who saw "stopped, typing" flicker within the interval). So a flood of
 * calls costs subscribers one event a second. Per server: behind a load
 * balancer, one per server.
 */
export class TypingService {
  private readonly slots = new Map<string, Slot>();

  constructor(
    private readonly access: Access,
    private readonly events: ChatEventPublisher,
    private readonly intervalMs = TYPING_INTERVAL_MS,
  ) {}

  async setTyping(actor: Actor, roomId: string, isTyping: boolean): Promise<boolean> {
    const me = await this.access.requireRoom(actor, roomId);
    const key = `${actor.id}:${me.roomId}`;
    const slot = this.slots.get(key);
    if (slot) {
      slot.pending = isTyping;
      return true;
    }
    this.publish(me.roomId, actor.id, isTyping);
    this.open(key, me.roomId, actor.id);
    return true;
  }

  /** Forgets pending states (shutdown). */
  close(): void {
    for (const slot of this.slots.values()) clearTimeout(slot.timer);
    this.slots.clear();
  }

  private open(key: string, roomId: string, userId: string): void {
    const timer = setTimeout(() => {
      const slot = this.slots.get(key) as Slot;
      this.slots.delete(key);
      if (slot.pending !== null) {
        this.publish(roomId, userId, slot.pending);
        this.open(key, roomId, userId);
      }
    }, this.intervalMs);
    timer.unref();
    this.slots.set(key, { pending: null, roomId, userId, timer });
  }

  private publish(roomId: string, userId: string, isTyping: boolean): void {
    this.events.publish({ kind: 'typing', roomId, userId, isTyping, at: new Date().toISOString() });
  }
}
