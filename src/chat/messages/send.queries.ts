import type { Repository } from 'typeorm';
import type { Database, Queryable } from '../../db/database';
import { isUniqueViolation } from '../../db/sql';
import { grantedSql, Permission } from '../access/permissions';
import { visibleMembershipSql } from '../access/visibility';
import { SLOW_MODE_ACTION } from '../limits/slow-mode';
import { NEXT_VERSION, RESTAMP } from '../changes/versions';
import { admitSql, type RateLimit } from '../limits/rate-limit.repository';
import { RateLimitedAction } from '../types';
import type { Message } from './message.entity';
import { SENDER } from './message-rows';
import { isPlainSend, sendMany, sendManySql } from './send-batch.queries';
import { DEFAULT_SEND_BATCHING, SendBatcher, type SendBatching } from './send-batcher';
import { outcomeOf, type NewMessage, type SendOutcome, type SendRow } from './send-outcome';

/** What a send serves: the one statement of a send, and the first message of a clientId. */
export function sendQueries(db: Database, MESSAGE: string, batching: SendBatching = DEFAULT_SEND_BATCHING) {
  const firstOf = async (q: Queryable, senderId: string, clientId: string): Promise<Message | null> => {
    const [message] = await q.query<Message>(`SELECT ${MESSAGE} FROM messages m WHERE m.sender_id = $1 AND m.client_id = $2`, [senderId, clientId]);
    return message ?? null;
  };
  const SEND_MANY = sendManySql(MESSAGE);
  const batcher = new SendBatcher(
    (input, limit) => sendOne(db, input, limit),
    (inputs, limit) => sendMany(db, SEND_MANY, inputs, limit),
    batching,
  );
  return {
    /** Plain sends gathered into one statement so far (the /metrics counters). */
    sendBatches: batcher.counts,

    async findBySenderAndClientId(this: Repository<Message>, senderId: string, clientId: string): Promise<Message | null> {
      return firstOf(db.on(this.manager), senderId, clientId);
    },

    /**
     * Sends a message (sendOne below). Outside a transaction a plain send goes
     * through the batcher (send-batcher.ts): alone when the server is quiet,
     * in one statement with others that wait when it is busy.
     */
    async sendMessage(this: Repository<Message>, input: NewMessage, limit: RateLimit): Promise<SendOutcome> {
      const q = db.on(this.manager);
      if (q === db && isPlainSend(input)) return batcher.send(input, limit);
      return sendOne(q, input, limit);
    },
  };

  /**
   * Sends a message in ONE statement: the sender's earlier message under the
   * same clientId (then nothing else happens), the reply's root (locked), the
   * room's row (locked, to commit: seq 1, 2, 3... in commit order), the
   * sender's membership (locked FOR SHARE after the room's, as every writer
   * locks them: message rows, then the room's, then memberships), which must
   * let them see the room and send now (the permission table, a mute
   * included: src/chat/access/permissions.ts), the uploads it names (locked
   * last, each still unsent), the room's slow mode and the rate limit (each
   * admitted under its row's lock), the message's position
   * (src/chat/changes/versions.ts: no lock, the transaction's id and the
   * sequence's next number), and the insert.
   *
   * The membership's lock is what makes a ban or a mute stop the very next
   * send: a send that locked it first commits before the ban can write; one
   * that comes after waits for the ban's commit and then reads the row as the
   * ban left it (READ COMMITTED re-reads a locked row's latest version), so
   * nothing is stored after a ban or mute commits. A concurrent first send of
   * the same clientId loses on the unique key: its whole statement rolls back
   * (seq and rate-limit slots included, so no gap) and the winner's message is
   * returned. A refusal stores nothing and takes no slot.
   */
  async function sendOne(q: Queryable, input: NewMessage, limit: RateLimit): Promise<SendOutcome> {
    let rows: SendRow[];
    try {
      rows = await q.query(
        `WITH first AS (
           SELECT * FROM messages WHERE $6::varchar IS NOT NULL AND sender_id = $2 AND client_id = $6
         ),
         -- A reply's root, locked first (message rows before the room's), and still a live root of this room.
         parent AS (
           SELECT id FROM messages
           WHERE $10::uuid IS NOT NULL AND id = $10 AND room_id = $1 AND parent_id IS NULL AND NOT is_deleted
             AND NOT EXISTS (SELECT 1 FROM first)
           FOR UPDATE
         ),
         -- The room's row next (a retry locks nothing); the count only orders this after the parent's lock.
         locked AS (
           SELECT id, slow_mode_seconds FROM rooms
           WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM first) AND (SELECT count(*) FROM parent) >= 0
           FOR NO KEY UPDATE
         ),
         -- The sender's membership after it, as a ban or mute committed while this waited left it.
         visible AS (
           SELECT ${grantedSql(Permission.SendMessage, 'r', 'rm')} AS may_send, rm.muted_until,
             ${grantedSql(Permission.SkipSlowMode, 'r', 'rm')} AS skips_slow_mode
           FROM room_members rm JOIN rooms r ON r.id = rm.room_id
           WHERE rm.room_id = $1 AND rm.user_id = $2 AND ${visibleMembershipSql('rm', 'r', '$7')}
             AND (EXISTS (SELECT 1 FROM first) OR EXISTS (SELECT 1 FROM locked))
           FOR SHARE OF rm
         ),
         allowed AS (
           SELECT 1 FROM visible
           WHERE may_send AND NOT EXISTS (SELECT 1 FROM first) AND ($10::uuid IS NULL OR EXISTS (SELECT 1 FROM parent))
         ),
         -- The uploads last (message rows, the room, memberships, then uploads), still unsent: a concurrent send of one
         -- of them waits, then finds it taken.
         claimed AS (
           SELECT id FROM attachments
           WHERE id = ANY($13::uuid[]) AND room_id = $1 AND uploader_id = $2 AND message_id IS NULL AND discarded_at IS NULL
             AND EXISTS (SELECT 1 FROM allowed)
           FOR UPDATE
         ),
         attachable AS (SELECT (SELECT count(*) FROM claimed) = cardinality($13::uuid[]) AS ok),
         ready AS (SELECT 1 FROM allowed WHERE (SELECT ok FROM attachable)),
         slowed_down AS (
           SELECT 1 FROM locked, visible WHERE EXISTS (SELECT 1 FROM ready) AND locked.slow_mode_seconds > 0 AND NOT visible.skips_slow_mode
         ),
         slow AS (
           ${admitSql(
             { user: '$2::uuid', scope: '$1::uuid', action: `'${SLOW_MODE_ACTION}'`, window: '(SELECT slow_mode_seconds FROM locked)', max: '1' },
             'EXISTS (SELECT 1 FROM slowed_down)',
           )}
         ),
         admitted AS (
           ${admitSql(
             { user: '$2::uuid', scope: '$1::uuid', action: `'${RateLimitedAction.MESSAGE}'`, window: '$8', max: '$9' },
             'EXISTS (SELECT 1 FROM ready) AND (NOT EXISTS (SELECT 1 FROM slowed_down) OR EXISTS (SELECT 1 FROM slow))',
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
           (SELECT may_send FROM visible) AS may_send, (SELECT muted_until FROM visible) AS muted_until,
           EXISTS (SELECT 1 FROM slowed_down) AND NOT EXISTS (SELECT 1 FROM slow) AS slowed,
           (SELECT slow_mode_seconds FROM locked) AS slow_mode_seconds,
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
      const first = (await firstOf(q, input.senderId, input.clientId)) as Message;
      return { kind: 'retry', first };
    }
    return outcomeOf(rows[0]);
  }
}
