import type { Actor } from '../actor';
import type { ChatEventPublisher } from '../events';
import type { MemberService } from '../members/member.service';

/** Typing indicators: published to the room's other members, never stored. */
export class TypingService {
  constructor(
    private readonly members: MemberService,
    private readonly events: ChatEventPublisher,
  ) {}

  async setTyping(actor: Actor, roomId: string, isTyping: boolean): Promise<boolean> {
    const me = await this.members.requireActiveMember(actor, roomId);
    this.events.publish({ kind: 'typing', roomId: me.roomId, userId: actor.id, isTyping, at: new Date().toISOString() });
    return true;
  }
}
