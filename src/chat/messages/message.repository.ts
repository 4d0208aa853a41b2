import type { Queryable } from '../../db/database';
import { isUniqueViolation } from '../../db/sql';
import { visibleMembershipSql } from '../access/visibility';
import { admitSql, type RateLimit } from '../limits/rate-limit.repository';
import { membersTable, type Member } from '../members/member.table';
import { messageNotFound } from '../errors';
import { RateLimitedAction, type MessageType } from '../types';
import { usersTable, type UserView } from '../users/user.table';
import { messagesTable as t, type Message } from './message.table';

const MESSAGE = t.select('m');

/** A page of messages with their senders, read in one statement. */
export interface MessagesWithSenders {
  messages: Message[];
  senders: UserView[];
}

export interface NewMessage {
  roomId: string;
  senderId: string;
  /** The sender's company now: the room must be visible to them (src/chat/access/visibility.ts). */
  senderCompanyId: string | null;
  type: MessageType;
  content: string;
  metadata: Record<string, unknown> | null;
  clientId: string | null;
}

/** What a send came to; the service turns each into its answer. */
export type SendOutcome =
  | { kind: 'sent'; message: Message }
  /** The sender's clientId named a message stored before (anywhere): it is returned, nothing is stored. */
  | { kind: 'retry'; first: Message }
  /** The room is not one the sender may see. */
  | { kind: 'hidden' }
  | { kind: 'limited' };

const SENDER = `${usersTable.selectPrefixed('u', 's')}`;

/** Rows carrying a message and (under `s.`) its sender. */
type MessageWithSenderRow = Message & Record<string, unknown>;

function splitSenders(rows: MessageWithSenderRow[]): MessagesWithSenders {
  const senders = new Map<string, UserView>();
  for (const row of rows) {
    const id = row['s.id'] as string | null;
    if (id !== null && !senders.has(id)) {
      senders.set(id, { id, displayName: row['s.displayName'] as string | null, companyId: row['s.companyId'] as string | null });
    }
  }
  return { messages: rows, senders: [...senders.values()] };
}

export class MessageRepository {
  constructor(private readonly db: Queryable) {}

  async ensureExists(messageId: string): Promise<Message> {
    const message = await this.findById(messageId);
    if (!message) throw messageNotFound();
    return message;
  }

  async findById(messageId: string): Promise<Message | null> {
    const [message] = await this.findByIds([messageId]);
    return message ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<Message[]> {
    return this.db.query<Message>(`SELECT ${MESSAGE} FROM messages m WHERE m.id = ANY($1::uuid[])`, [ids]);
  }

  async findBySenderAndClientId(senderId: string, clientId: string): Promise<Message | null> {
    const [message] = await this.db.query<Message>(
      `SELECT ${MESSAGE} FROM messages m WHERE m.sender_id = $1 AND m.client_id = $2`,
      [senderId, clientId],
    );
    return message ?? null;
  }

  /**
   * The messages among `ids` that `userId` (company `companyId`) may see, each
   * with the membership that lets them, in one statement: a message that does
   * not exist and one in a room they may not see are both simply absent, so
   * the two take the same path.
   */
  async findVisible(ids: readonly string[], userId: string, companyId: string | null): Promise<{ message: Message; me: Member }[]> {
    const rows = await this.db.query<Message & Record<string, unknown>>(
      `SELECT ${MESSAGE}, ${membersTable.selectPrefixed('rm', 'me')}
       FROM messages m
       JOIN rooms r ON r.id = m.room_id
       JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = $2
       WHERE m.id = ANY($1::uuid[]) AND ${visibleMembershipSql('rm', 'r', '$3')}`,
      [ids, userId, companyId],
    );
    return rows.map((row) => {
      const me = membersTable.pick(row, 'me') as Member;
      for (const key of Object.keys(row)) if (key.startsWith('me.')) delete row[key];
      return { message: row, me };
    });
  }

  /**
   * Newest first, keyset on seq: `before` is a message of this room (exclusive).
   * Walks the (room_id, seq) index backwards, so a page deep in history costs what
   * the first one costs. The senders come in the same statement. Returns null when
   * `beforeId` names no message of the room.
   */
  async getRoomMessages(roomId: string, limit: number, beforeId: string | null, includeDeleted: boolean): Promise<MessagesWithSenders | null> {
    const rows = await this.db.query<MessageWithSenderRow>(
      `WITH cursor AS (SELECT seq FROM messages WHERE id = $2 AND room_id = $1)
       SELECT ${MESSAGE}, ${SENDER}
       FROM (
         SELECT * FROM messages
         WHERE room_id = $1
           AND ($2::uuid IS NULL OR seq < (SELECT seq FROM cursor))
           AND ($4 OR NOT is_deleted)
         ORDER BY seq DESC LIMIT $3
       ) m LEFT JOIN users u ON u.id = m.sender_id
       ORDER BY m.seq DESC`,
      [roomId, beforeId, limit, includeDeleted],
    );
    if (rows.length === 0 && beforeId !== null) {
      const cursor = await this.db.query(`SELECT 1 FROM messages WHERE id = $1 AND room_id = $2`, [beforeId, roomId]);
      if (cursor.length === 0) return null;
    }
    return splitSenders(rows);
  }

  /** Messages after seq `afterSeq`, oldest first: the replay of a resumed subscription. */
  async getMessagesAfter(roomId: string, afterSeq: number, limit: number): Promise<Message[]> {
    return this.db.query<Message>(`SELECT ${MESSAGE} FROM messages m WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`, [
      roomId,
      afterSeq,
      limit,
    ]);
  }

  /** The newest visible message of each room, with its sender; one index probe per room. */
  async lastMessages(roomIds: readonly string[]): Promise<MessagesWithSenders> {
    const rows = await this.db.query<MessageWithSenderRow>(
      `SELECT ${MESSAGE}, ${SENDER}
       FROM unnest($1::uuid[]) AS r(id)
       CROSS JOIN LATERAL (
         SELECT * FROM messages WHERE room_id = r.id AND NOT is_deleted ORDER BY seq DESC LIMIT 1
       ) m LEFT JOIN users u ON u.id = m.sender_id`,
      [roomIds],
    );
    return splitSenders(rows);
  }

  /**
   * Sends a message in ONE statement: the sender's earlier message under the
   * same clientId (then nothing else happens), the check that the sender may
   * see the room, the rate limit (admitted under its row's lock), the room's
   * next seq (under the room's row lock, held to commit: seq 1, 2, 3... in
   * commit order) and the insert. A concurrent first send of the same clientId
   * loses on the unique key: its whole statement rolls back (seq and rate-limit
   * slot included, so no gap) and the winner's message is returned.
   */
  async sendMessage(input: NewMessage, limit: RateLimit): Promise<SendOutcome> {
    let rows: (Message & { outcome: 'sent' | 'first' | null; visible: boolean })[];
    try {
      rows = await this.db.query(
        `WITH first AS (
           SELECT * FROM messages WHERE $6::varchar IS NOT NULL AND sender_id = $2 AND client_id = $6
         ),
         visible AS (
           SELECT 1 FROM room_members rm JOIN rooms r ON r.id = rm.room_id
           WHERE rm.room_id = $1 AND rm.user_id = $2 AND ${visibleMembershipSql('rm', 'r', '$7')}
         ),
         admitted AS (
           ${admitSql(
             { user: '$2::uuid', scope: '$1::uuid', action: `'${RateLimitedAction.MESSAGE}'`, window: '$8', max: '$9' },
             'EXISTS (SELECT 1 FROM visible) AND NOT EXISTS (SELECT 1 FROM first)',
           )}
         ),
         room AS (
           UPDATE rooms SET last_seq = last_seq + 1, last_message_at = clock_timestamp(), updated_at = clock_timestamp()
           WHERE id = $1 AND EXISTS (SELECT 1 FROM admitted)
           RETURNING last_seq
         ),
         sent AS (
           INSERT INTO messages (room_id, sender_id, type, content, metadata, client_id, seq)
           SELECT $1, $2, $3, $4, $5, $6, last_seq FROM room
           RETURNING *
         )
         SELECT ${MESSAGE}, m.outcome, EXISTS (SELECT 1 FROM visible) AS visible
         FROM (SELECT 'sent' AS outcome, * FROM sent UNION ALL SELECT 'first', * FROM first) m
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
        ],
      );
    } catch (error) {
      if (input.clientId === null || !isUniqueViolation(error, 'messages_sender_client_key')) throw error;
      // A concurrent send with the same clientId committed first: this one stored nothing.
      const first = (await this.findBySenderAndClientId(input.senderId, input.clientId)) as Message;
      return { kind: 'retry', first };
    }
    const [row] = rows;
    if (!row.visible) return { kind: 'hidden' };
    if (row.outcome === 'first') return { kind: 'retry', first: stripOutcome(row) };
    if (row.outcome === 'sent') return { kind: 'sent', message: stripOutcome(row) };
    return { kind: 'limited' };
  }

  /** Replaces the content of a live message. Null when it is gone or deleted. */
  async editMessage(messageId: string, newContent: string): Promise<Message | null> {
    const [message] = await this.db.query<Message>(
      `UPDATE messages m SET content = $2, edited_at = clock_timestamp()
       WHERE m.id = $1 AND NOT m.is_deleted RETURNING ${MESSAGE}`,
      [messageId, newContent],
    );
    return message ?? null;
  }

  /**
   * Soft delete: the row and its seq stay, its content and metadata are wiped.
   * Deleting twice keeps the first deletedAt.
   */
  async deleteMessage(messageId: string): Promise<Message | null> {
    const [message] = await this.db.query<Message>(
      `UPDATE messages m SET is_deleted = true, deleted_at = coalesce(m.deleted_at, clock_timestamp()),
         content = NULL, metadata = NULL
       WHERE m.id = $1 RETURNING ${MESSAGE}`,
      [messageId],
    );
    return message ?? null;
  }
}

function stripOutcome(row: Message & { outcome?: unknown; visible?: unknown }): Message {
  const { outcome: _outcome, visible: _visible, ...message } = row;
  return message as Message;
}
