import type { Repository } from 'typeorm';
import type { Database } from '../../db/database';
import { isUniqueViolation } from '../../db/sql';
import { visibleMembershipSql } from '../access/visibility';
import { NEXT_VERSION, RESTAMP } from '../changes/versions';
import { admitSql, type RateLimit } from '../limits/rate-limit.repository';
import { RateLimitedAction, type MessageType } from '../types';
import type { UserView } from '../users/user.entity';
import type { Message } from './message.entity';
import { SENDER, splitSenders, type MessageWithSenderRow } from './message-rows';

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
  | { kind: 'limited' };

/** What a send serves: the one statement of a send, and the first message of a clientId. */
export function sendQueries(db: Database, MESSAGE: string) {
  const firstOf = async (repo: Repository<Message>, senderId: string, clientId: string): Promise<Message | null> => {
    const [message] = await db.on(repo.manager).query<Message>(`SELECT ${MESSAGE} FROM messages m WHERE m.sender_id = $1 AND m.client_id = $2`, [senderId, clientId]);
    return message ?? null;
  };
  return {
    async findBySenderAndClientId(this: Repository<Message>, senderId: string, clientId: string): Promise<Message | null> {
      return firstOf(this, senderId, clientId);
    },

    /**
     * Sends a message in ONE statement: the sender's earlier message under the
     * same clientId (then nothing else happens), the check that the sender may
     * see the room, the rate limit (admitted under its row's lock), the room's
     * next seq (under the room's row lock, held to commit: seq 1, 2, 3... in
     * commit order), the message's position (src/chat/changes/versions.ts: no
     * lock, the transaction's id and the sequence's next number), and the insert. A concurrent first send of the same clientId
     * loses on the unique key: its whole statement rolls back (seq and rate-limit
     * slot included, so no gap) and the winner's message is returned.
     */
    async sendMessage(this: Repository<Message>, input: NewMessage, limit: RateLimit): Promise<SendOutcome> {
      let rows: (MessageWithSenderRow & {
        outcome: 'sent' | 'first' | null;
        visible: boolean;
        parent_ok: boolean;
        root_id: string | null;
        attachments_ok: boolean;
      })[];
      try {
        rows = await db.on(this.manager).query(
          `WITH first AS (
             SELECT * FROM messages WHERE $6::varchar IS NOT NULL AND sender_id = $2 AND client_id = $6
           ),
           visible AS (
             SELECT 1 FROM room_members rm JOIN rooms r ON r.id = rm.room_id
             WHERE rm.room_id = $1 AND rm.user_id = $2 AND ${visibleMembershipSql('rm', 'r', '$7')}
           ),
           -- A reply's root, locked first (message rows before the room's), and still a live root of this room.
           parent AS (
             SELECT id FROM messages
             WHERE $10::uuid IS NOT NULL AND id = $10 AND room_id = $1 AND parent_id IS NULL AND NOT is_deleted
               AND EXISTS (SELECT 1 FROM visible) AND NOT EXISTS (SELECT 1 FROM first)
             FOR UPDATE
           ),
           -- The uploads, locked before the room's row and still unsent: a concurrent send of one of them waits, then finds it taken.
           claimed AS (
             SELECT id FROM attachments
             WHERE id = ANY($13::uuid[]) AND room_id = $1 AND uploader_id = $2 AND message_id IS NULL
               AND EXISTS (SELECT 1 FROM visible) AND NOT EXISTS (SELECT 1 FROM first)
             FOR UPDATE
           ),
           attachable AS (SELECT (SELECT count(*) FROM claimed) = cardinality($13::uuid[]) AS ok),
           admitted AS (
             ${admitSql(
               { user: '$2::uuid', scope: '$1::uuid', action: `'${RateLimitedAction.MESSAGE}'`, window: '$8', max: '$9' },
               'EXISTS (SELECT 1 FROM visible) AND NOT EXISTS (SELECT 1 FROM first) AND ($10::uuid IS NULL OR EXISTS (SELECT 1 FROM parent)) AND (SELECT ok FROM attachable)',
             )}
           ),
           room AS (
             UPDATE rooms SET last_seq = last_seq + 1, updated_at = clock_timestamp(),
               last_message_at = CASE WHEN $10::uuid IS NULL OR $11 THEN clock_timestamp() ELSE last_message_at END
             WHERE id = $1 AND EXISTS (SELECT 1 FROM admitted)
             RETURNING last_seq
           ),
           sent AS (
             INSERT INTO messages (room_id, sender_id, type, content, metadata, client_id, seq, parent_id, also_in_room, version)
             SELECT $1, $2, $3, $4, $5, $6, last_seq, $10, $10::uuid IS NOT NULL AND $11, ${NEXT_VERSION} FROM room
             RETURNING *
           ),
           -- The root counts the reply and gets a position of its own (a messageUpdated).
           root AS (
             UPDATE messages p SET reply_count = p.reply_count + 1, ${RESTAMP}, revision = p.revision + 1,
               last_reply_at = greatest(coalesce(p.last_reply_at, '-infinity'), s.created_at)
             FROM sent s WHERE p.id = s.parent_id
             RETURNING p.id
           ),
           mentioned AS (
             INSERT INTO message_mentions (message_id, user_id, room_id, created_at, position)
             SELECT s.id, k.user_id, s.room_id, s.created_at, k.position FROM sent s, unnest($12::uuid[]) WITH ORDINALITY AS k(user_id, position)
           ),
           attached AS (
             UPDATE attachments a SET message_id = s.id, position = k.position
             FROM sent s, unnest($13::uuid[]) WITH ORDINALITY AS k(id, position) WHERE a.id = k.id
           )
           SELECT ${MESSAGE}, ${SENDER}, m.outcome, EXISTS (SELECT 1 FROM visible) AS visible,
             ($10::uuid IS NULL OR EXISTS (SELECT 1 FROM parent)) AS parent_ok, (SELECT id FROM root) AS root_id,
             (SELECT ok FROM attachable) AS attachments_ok
           FROM (SELECT 'sent' AS outcome, * FROM sent UNION ALL SELECT 'first', * FROM first) m
           LEFT JOIN users u ON u.id = m.sender_id
           RIGHT JOIN (SELECT 1) AS one ON true`,
          [
            input.roomId,
            input.senderId,
            input.type,
            input.content,
            input.metadata === null ? null : JSON.stringify(input.metadata),
            input.clientId,
            input.senderCompanyId,
            limit.windowSeconds,
            limit.max,
            input.parentId,
            input.alsoInRoom,
            input.mentionIds,
            input.attachmentIds,
          ],
        );
      } catch (error) {
        if (input.clientId === null || !isUniqueViolation(error, 'messages_sender_client_key')) throw error;
        // A concurrent send with the same clientId committed first: this one stored nothing.
        const first = (await firstOf(this, input.senderId, input.clientId)) as Message;
        return { kind: 'retry', first };
      }
      const [row] = rows;
      if (!row.visible) return { kind: 'hidden' };
      if (row.outcome === 'first') return { kind: 'retry', first: stripOutcome(row), sender: splitSenders([row]).senders[0] };
      if (!row.parent_ok) return { kind: 'parent-gone' };
      if (!row.attachments_ok) return { kind: 'attachments-gone' };
      if (row.outcome === null) return { kind: 'limited' };
      return { kind: 'sent', message: stripOutcome(row), sender: splitSenders([row]).senders[0], rootId: row.root_id };
    },
  };
}

function stripOutcome(
  row: MessageWithSenderRow & { outcome?: unknown; visible?: unknown; parent_ok?: unknown; root_id?: unknown; attachments_ok?: unknown },
): Message {
  const { outcome: _outcome, visible: _visible, parent_ok: _parentOk, root_id: _rootId, attachments_ok: _attachmentsOk, ...message } = row;
  return message as Message;
}
