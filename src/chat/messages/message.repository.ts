import type { DataSource, EntityManager } from 'typeorm';
import type { RateLimit } from '../../config';
import { messageNotFound, RateLimitedError } from '../errors';
import { queryOne, queryRows } from '../../db/sql';
import { User } from '../users/user.entity';
import { toUserFromJson, type UserRow } from '../users/user.repository';
import { MessageType, RateLimitedAction } from '../types';
import { Message } from './message.entity';

export interface MessageRow {
  id: string;
  room_id: string;
  sender_id: string | null;
  type: MessageType;
  content: string | null;
  metadata: Record<string, unknown> | null;
  client_id: string | null;
  seq: number;
  created_at: Date;
  edited_at: Date | null;
  is_deleted: boolean;
  deleted_at: Date | null;
}

export function toMessage(row: MessageRow): Message {
  return Object.assign(new Message(), {
    id: row.id,
    roomId: row.room_id,
    senderId: row.sender_id,
    type: row.type,
    content: row.content,
    metadata: row.metadata,
    clientId: row.client_id,
    seq: row.seq,
    createdAt: row.created_at,
    editedAt: row.edited_at,
    isDeleted: row.is_deleted,
    deletedAt: row.deleted_at,
  });
}

/** A page of messages with their senders, read in one statement. */
export interface MessagesWithSenders {
  messages: Message[];
  senders: User[];
}

export interface NewMessage {
  roomId: string;
  senderId: string;
  type: MessageType;
  content: string;
  metadata: Record<string, unknown> | null;
  clientId: string | null;
}

export interface SentMessage {
  message: Message;
  /** False when the clientId named a message sent before (an idempotent retry). */
  created: boolean;
}

/** Raised inside the send transaction when a concurrent retry won the (sender, clientId) key. */
class ClientIdTaken extends Error {}

const MESSAGE_WITH_SENDER = `m.*, to_jsonb(u) AS sender`;

export class MessageRepository {
  constructor(private readonly db: DataSource) {}

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
    const rows = await queryRows<MessageRow>(this.db.manager, `SELECT * FROM messages WHERE id = ANY($1::uuid[])`, [ids]);
    return rows.map(toMessage);
  }

  async findBySenderAndClientId(senderId: string, clientId: string): Promise<Message | null> {
    const row = await queryOne<MessageRow>(
      this.db.manager,
      `SELECT * FROM messages WHERE sender_id = $1 AND client_id = $2`,
      [senderId, clientId],
    );
    return row ? toMessage(row) : null;
  }

  /**
   * Newest first, keyset on seq: `before` is a message of this room (exclusive).
   * Walks the (room_id, seq) index backwards, so a page deep in history costs what
   * the first one costs. The senders come in the same statement. Returns null when
   * `beforeId` names no message of the room.
   */
  async getRoomMessages(
    roomId: string,
    limit: number,
    beforeId: string | null,
    includeDeleted: boolean,
  ): Promise<MessagesWithSenders | null> {
    const rows = await queryRows<MessageRow & { sender: UserRow | null }>(
      this.db.manager,
      `WITH cursor AS (SELECT seq FROM messages WHERE id = $2 AND room_id = $1)
       SELECT ${MESSAGE_WITH_SENDER}
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
      const cursor = await queryOne(this.db.manager, `SELECT 1 FROM messages WHERE id = $1 AND room_id = $2`, [
        beforeId,
        roomId,
      ]);
      if (!cursor) return null;
    }
    return splitSenders(rows);
  }

  /** Messages after seq `afterSeq`, oldest first: the replay of a resumed subscription. */
  async getMessagesAfter(roomId: string, afterSeq: number, limit: number): Promise<Message[]> {
    const rows = await queryRows<MessageRow>(
      this.db.manager,
      `SELECT * FROM messages WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [roomId, afterSeq, limit],
    );
    return rows.map(toMessage);
  }

  /** The newest visible message of each room, with its sender; one index probe per room. */
  async lastMessages(roomIds: readonly string[]): Promise<MessagesWithSenders> {
    const rows = await queryRows<MessageRow & { sender: UserRow | null }>(
      this.db.manager,
      `SELECT ${MESSAGE_WITH_SENDER}
       FROM unnest($1::uuid[]) AS r(id)
       CROSS JOIN LATERAL (
         SELECT * FROM messages WHERE room_id = r.id AND NOT is_deleted ORDER BY seq DESC LIMIT 1
       ) m LEFT JOIN users u ON u.id = m.sender_id`,
      [roomIds],
    );
    return splitSenders(rows);
  }

  /**
   * Stores a message under the room's row lock: the lock hands out seq 1, 2, 3...
   * in commit order with no gap (a rolled-back send gives its number back), and
   * the rate limit is checked and recorded in the same transaction, so exactly
   * `limit.max` of many parallel sends are admitted.
   */
  async sendMessage(input: NewMessage, limit: RateLimit): Promise<SentMessage> {
    try {
      const message = await this.db.transaction(async (tx) => {
        await this.checkRateLimit(input.senderId, input.roomId, RateLimitedAction.MESSAGE, limit, tx);
        const room = await queryOne<{ last_seq: number }>(
          tx,
          `UPDATE rooms SET last_seq = last_seq + 1, last_message_at = clock_timestamp(), updated_at = clock_timestamp()
           WHERE id = $1 RETURNING last_seq`,
          [input.roomId],
        );
        const row = await queryOne<MessageRow>(
          tx,
          `INSERT INTO messages (room_id, sender_id, type, content, metadata, client_id, seq)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (sender_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
           RETURNING *`,
          [
            input.roomId,
            input.senderId,
            input.type,
            input.content,
            input.metadata === null ? null : JSON.stringify(input.metadata),
            input.clientId,
            (room as { last_seq: number }).last_seq,
          ],
        );
        if (!row) throw new ClientIdTaken();
        return toMessage(row);
      });
      return { message, created: true };
    } catch (error) {
      if (!(error instanceof ClientIdTaken) || input.clientId === null) throw error;
      const first = await this.findBySenderAndClientId(input.senderId, input.clientId);
      return { message: first as Message, created: false };
    }
  }

  /** Replaces the content of a live message. Null when it is gone or deleted. */
  async editMessage(messageId: string, newContent: string, _editedById: string): Promise<Message | null> {
    const row = await queryOne<MessageRow>(
      this.db.manager,
      `UPDATE messages SET content = $2, edited_at = clock_timestamp()
       WHERE id = $1 AND NOT is_deleted RETURNING *`,
      [messageId, newContent],
    );
    return row ? toMessage(row) : null;
  }

  /**
   * Soft delete: the row and its seq stay, its content and metadata are wiped.
   * Deleting twice keeps the first deletedAt.
   */
  async deleteMessage(messageId: string, _deletedById: string): Promise<Message | null> {
    const row = await queryOne<MessageRow>(
      this.db.manager,
      `UPDATE messages SET is_deleted = true, deleted_at = coalesce(deleted_at, clock_timestamp()),
         content = NULL, metadata = NULL
       WHERE id = $1 RETURNING *`,
      [messageId],
    );
    return row ? toMessage(row) : null;
  }

  /** Drops log rows older than `windowSeconds` for every key, including keys nobody checks any more. */
  async pruneRateLimitLog(windowSeconds: number): Promise<number> {
    const rows = await queryRows(
      this.db.manager,
      `DELETE FROM rate_limit_log WHERE created_at <= clock_timestamp() - make_interval(secs => $1) RETURNING 1`,
      [windowSeconds],
    );
    return rows.length;
  }

  /**
   * Admits one event of `eventType` for (user, room) or throws RateLimitedError.
   * A per-key advisory lock serialises the count and the insert, so parallel
   * callers cannot all see the same count; rows older than the window are pruned.
   * Runs in `tx` when given (the caller's transaction), else in its own.
   */
  async checkRateLimit(
    userId: string,
    roomId: string,
    eventType: RateLimitedAction,
    limit: RateLimit,
    tx?: EntityManager,
  ): Promise<void> {
    if (!tx) {
      return this.db.transaction((own) => this.checkRateLimit(userId, roomId, eventType, limit, own));
    }
    await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`rate:${userId}:${roomId}:${eventType}`]);
    const row = await queryOne<{ n: number; retry_after: number | null; admitted: number }>(
      tx,
      `WITH pruned AS (
         DELETE FROM rate_limit_log
         WHERE user_id = $1 AND room_id = $2 AND event_type = $3
           AND created_at <= clock_timestamp() - make_interval(secs => $4)
       ),
       recent AS (
         SELECT count(*)::int AS n, min(created_at) AS oldest FROM rate_limit_log
         WHERE user_id = $1 AND room_id = $2 AND event_type = $3
           AND created_at > clock_timestamp() - make_interval(secs => $4)
       ),
       admitted AS (
         INSERT INTO rate_limit_log (user_id, room_id, event_type)
         SELECT $1, $2, $3 FROM recent WHERE n < $5 RETURNING 1
       )
       SELECT n,
         ceil(extract(epoch FROM (oldest + make_interval(secs => $4) - clock_timestamp())))::int AS retry_after,
         (SELECT count(*)::int FROM admitted) AS admitted
       FROM recent`,
      [userId, roomId, eventType, limit.windowSeconds, limit.max],
    );
    if (!row || row.admitted === 0) {
      const retryAfter = Math.max(1, row?.retry_after ?? limit.windowSeconds);
      throw new RateLimitedError(
        `Rate limit of ${limit.max} ${eventType.toLowerCase()}s per ${limit.windowSeconds}s reached; retry in ${retryAfter}s`,
        retryAfter,
      );
    }
  }
}

function splitSenders(rows: (MessageRow & { sender: UserRow | null })[]): MessagesWithSenders {
  const senders = new Map<string, User>();
  for (const row of rows) {
    if (row.sender) {
      senders.set(row.sender.id, toUserFromJson(row.sender));
    }
  }
  return { messages: rows.map(toMessage), senders: [...senders.values()] };
}
