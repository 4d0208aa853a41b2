import type { MembershipEventKind } from './types';

/**
 * What services announce after a change commits. Records are small and
 * serialisable (ids, ISO dates): they cross Redis between instances, and every
 * subscriber re-reads what it may see.
 */
export type ChatEvent =
  | { kind: 'messageAdded'; roomId: string; messageId: string; seq: number }
  | { kind: 'messageUpdated'; roomId: string; messageId: string }
  | {
      kind: 'membershipChanged';
      change: MembershipEventKind;
      roomId: string;
      memberId: string;
      userId: string;
      /** The membership's position after the change (src/chat/changes/versions.ts: positionText). */
      position: string;
      /**
       * ADDED only: the room's last seq as the member came in. Messages after it
       * are news to them; an all-rooms stream that starts following the room
       * reads those it may have missed while it did.
       */
      seq?: number;
    }
  | { kind: 'typing'; roomId: string; userId: string; isTyping: boolean; at: string }
  /** A member's read position moved forward. */
  | { kind: 'readReceipt'; roomId: string; userId: string; lastReadAt: string }
  /** A member of the room came online or went offline (src/chat/presence); `lastSeenAt`: when (now, while online). */
  | { kind: 'presence'; roomId: string; userId: string; online: boolean; lastSeenAt: string };

export type ChatEventKind = ChatEvent['kind'];

/** The one way services publish; in-process or Redis behind it (src/realtime). */
export interface ChatEventPublisher {
  publish(event: ChatEvent): void;
}
