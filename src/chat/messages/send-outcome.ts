// What a send asks for, and what it came to: shared by the one-send statement (send.queries.ts) and the batch
// (send-batch.queries.ts), which read their rows the same way.
import type { UserView } from '../users/user.entity';
import type { MessageType } from '../types';
import type { Message } from './message.entity';
import { splitSenders, type MessageWithSenderRow } from './message-rows';

export interface NewMessage {
  roomId: string;
  senderId: string;
  /** The sender's company now: the room must be visible to them (src/chat/access/visibility.ts). */
  senderCompanyId: string | null;
  type: MessageType;
  content: string;
  metadata: Record<string, unknown> | null;
  clientId: string | null;
  /** A reply's thread root (checked by the service, locked and checked again by the statement). */
  parentId: string | null;
  alsoInRoom: boolean;
  /** Users mentioned (active members of the room, checked by the service), in order. */
  mentionIds: string[];
  /** Uploads to place in the message, in order (checked by the service; claimed again here under their row locks). */
  attachmentIds: string[];
}

/** What a send came to; the service turns each into its answer. */
export type SendOutcome =
  /** Stored; a reply also changed its thread root (`rootId`). */
  | { kind: 'sent'; message: Message; sender: UserView; rootId: string | null }
  /** The reply's root is no longer a live top-level message of the room. */
  | { kind: 'parent-gone' }
  /** An upload was placed in another message meanwhile (or is no longer the sender's for this room). */
  | { kind: 'attachments-gone' }
  /** The sender's clientId named a message stored before (anywhere): it is returned, nothing is stored. */
  | { kind: 'retry'; first: Message; sender?: UserView }
  /** The room is not one the sender may see. */
  | { kind: 'hidden' }
  /** The sender's membership does not let them send now: muted (until `mutedUntil`), or a role without SendMessage. */
  | { kind: 'forbidden'; mutedUntil: string | null }
  /** The room's slow mode: the sender's last message was less than `seconds` ago. */
  | { kind: 'slowed'; seconds: number }
  | { kind: 'limited' };

/** A send statement's row: the message (or the clientId's first one) with its sender, and what the checks found. */
export type SendRow = MessageWithSenderRow & {
  outcome: 'sent' | 'first' | null;
  visible: boolean;
  may_send: boolean | null;
  muted_until: string | null;
  slowed: boolean;
  slow_mode_seconds: number | null;
  parent_ok: boolean;
  root_id: string | null;
  attachments_ok: boolean;
};

/** What a send statement's row comes to (the first refusal that applies, in the order the statement checks). */
export function outcomeOf(row: SendRow): SendOutcome {
  if (!row.visible) return { kind: 'hidden' };
  if (row.outcome === 'first') return { kind: 'retry', first: stripOutcome(row), sender: splitSenders([row]).senders[0] };
  if (!row.may_send) return { kind: 'forbidden', mutedUntil: row.muted_until };
  if (!row.parent_ok) return { kind: 'parent-gone' };
  if (!row.attachments_ok) return { kind: 'attachments-gone' };
  if (row.slowed) return { kind: 'slowed', seconds: row.slow_mode_seconds as number };
  if (row.outcome === null) return { kind: 'limited' };
  return { kind: 'sent', message: stripOutcome(row), sender: splitSenders([row]).senders[0], rootId: row.root_id };
}

function stripOutcome(row: Partial<SendRow> & MessageWithSenderRow): Message {
  const { outcome: _o, visible: _v, may_send: _m, muted_until: _mu, slowed: _s, slow_mode_seconds: _sm, parent_ok: _p, root_id: _r, attachments_ok: _a, ...message } = row;
  return message as Message;
}
