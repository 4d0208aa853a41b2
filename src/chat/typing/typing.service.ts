import type { Access } from '../access/access';
import type { Actor } from '../actor';
import type { ChatEventPublisher } from '../events';
import { Coalescer } from '../limits/coalescer';
import { Permission } from '../access/permissions';

/** At most one typing event per user and room in this many ms; calls in between are coalesced. @default 1000 */
export const TYPING_INTERVAL_MS = 1000;

/**
 * Typing indicators: published to the room's other members, never stored.
 * Clients call setTyping on every keystroke; a user's events in a room are
 * coalesced to one per interval (src/chat/limits/coalescer.ts): the first at
 * once, then, if calls came during the interval, the latest state at its end,
 * so a member who opened the room since hears it, and a stop-start flicker
 * ends as typing.
 */
export class TypingService {
  private readonly coalescer: Coalescer<{ actor: Actor; roomId: string; isTyping: boolean }>;

  constructor(
    private readonly access: Access,
    events: ChatEventPublisher,
    intervalMs = TYPING_INTERVAL_MS,
  ) {
    this.coalescer = new Coalescer(intervalMs, ({ actor, roomId, isTyping }, held) => {
      // A state held back to the end of its interval is published only if its typist may still type there: one
      // removed, banned or muted meanwhile says nothing more (a stop needs no right). One sent at once was just checked.
      const allowed = held && isTyping ? this.access.require(actor, Permission.SetTyping, roomId) : Promise.resolve();
      allowed.then(
        () => events.publish({ kind: 'typing', roomId, userId: actor.id, isTyping, at: new Date().toISOString() }),
        () => {},
      );
    });
  }

  /**
   * Active members who may type (SetTyping: a muted member may not, FORBIDDEN
   * with until when); stopping is always allowed, so a member muted while
   * typing can clear their indicator.
   */
  async setTyping(actor: Actor, roomId: string, isTyping: boolean): Promise<boolean> {
    const { room, me } = await this.access.requireRoomAndMembership(actor, roomId);
    if (isTyping) this.access.check(room.type, me, Permission.SetTyping);
    this.coalescer.offer(`${actor.id}:${me.roomId}`, { actor, roomId: me.roomId, isTyping });
    return true;
  }

  /** Forgets pending states (shutdown). */
  close(): void {
    this.coalescer.close();
  }
}
