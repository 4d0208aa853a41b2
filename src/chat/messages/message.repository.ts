import type { Queryable } from '../../db/database';
import { isUniqueViolation } from '../../db/sql';
import { visibleMembershipSql } from '../access/visibility';
import { NEXT_VERSION, stampCtes, TAKE_VERSION_LOCK } from '../changes/versions';
import { admitSql, type RateLimit } from '../limits/rate-limit.repository';
import { membersTable, type Member } from '../members/member.table';
import type { ReactionSummary } from '../reactions/reaction.repository';
import { messageNotFound } from '../errors';
import { RateLimitedAction, type MessageType } from '../types';
import type { UserView } from '../users/user.table';
import { messagesTable as t, type Message } from './message.table';

const MESSAGE = t.select('m');

/** A page of messages with their senders, read in one statement. */
export interface MessagesWithSenders {
  messages: Message[];
  senders: UserView[];
}

export interface HistoryPage extends MessagesWithSenders {
  /** False when the viewer may not see the room (then there are no messages). */
  visible: boolean;
  /** False when `before` names no message of the room. */
  cursorFound: boolean;
  /** The reaction summaries of each message, when asked for. */
  reactions: Map<string, ReactionSummary[]> | null;
  /** The users who reacted, when asked for. */
  reactionUsers: UserView[];
}

const historyStatements = new Map<string, string>();

/**
 * The history statement. One row per message; when there is none, one row of
 * nulls that still carries `visible` and `cursor_found`. A page with a cursor
 * is its own statement: prepared once and planned generically, the keyset
 * bound must stay an index condition (`seq < cursor`), not a filter behind an
 * OR that a page deep in history would pay for with every row above it. Reactions are summed
 * per message in a correlated subquery (an index probe per message), as JSON
 * the driver parses once: [{ reaction, count, userIds }] in order of first use.
 */
function historySql(withViewer: boolean, withCursor: boolean, withReactions: boolean, withReactionUsers: boolean): string {
  const key = `${withViewer}:${withCursor}:${withReactions}:${withReactionUsers}`;
  let text = historyStatements.get(key);
  if (text !== undefined) return text;
  const visible = withViewer
    ? `EXISTS (SELECT 1 FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.room_id = $1 AND rm.user_id = $5 AND ${visibleMembershipSql('rm', 'r', '$6')})`
    : `($5::uuid IS NULL AND $6::uuid IS NULL)`;
  const users = withReactionUsers
    ? `, 'users', (SELECT json_agg(json_build_object('id', ru.id, 'displayName', ru.display_name, 'companyId', ru.company_id))
         FROM users ru WHERE ru.id = ANY(g.user_ids))`
    : '';
  const reactions = withReactions
    ? `, (SELECT coalesce(json_agg(json_build_object('reaction', g.reaction, 'count', cardinality(g.user_ids), 'userIds', g.user_ids${users})
           ORDER BY g.first_at, g.first_id), '[]')
         FROM (SELECT reaction, array_agg(user_id ORDER BY created_at, id) AS user_ids, min(created_at) AS first_at, min(id::text) AS first_id
               FROM message_reactions WHERE message_id = m.id GROUP BY reaction) g) AS reactions`
    : '';
  text = `WITH visible AS (SELECT ${visible} AS ok),
     cursor AS (SELECT seq FROM messages WHERE id = $2 AND room_id = $1),
     page AS (
       SELECT * FROM messages
       WHERE room_id = $1 AND (SELECT ok FROM visible)
         ${withCursor ? 'AND seq < (SELECT seq FROM cursor)' : 'AND $2::uuid IS NULL'}
         AND ($4 OR NOT is_deleted)
       ORDER BY seq DESC LIMIT $3
     )
     SELECT ${MESSAGE}, ${SENDER}${reactions},
       (SELECT ok FROM visible) AS visible,
       ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor)) AS cursor_found
     FROM page m LEFT JOIN users u ON u.id = m.sender_id
     RIGHT JOIN (SELECT 1) AS one ON true
     ORDER BY m.seq DESC`;
  historyStatements.set(key, text);
  return text;
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
  | { kind: 'sent'; message: Message; sender: UserView }
  /** The sender's clientId named a message stored before (anywhere): it is returned, nothing is stored. */
  | { kind: 'retry'; first: Message; sender?: UserView }
  /** The room is not one the sender may see. */
  | { kind: 'hidden' }
  | { kind: 'limited' };

/** The sender's columns the API shows, under `s.` (what splitSenders reads). */
const SENDER = `u.id AS "s.id", u.display_name AS "s.displayName", u.company_id AS "s.companyId"`;

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
   * A room's history in ONE statement: newest first, keyset on seq (`before` is a
   * message of this room, exclusive), walking the (room_id, seq) index backwards,
   * so a page deep in history costs what the first one costs; with the senders,
   * the reaction summaries when asked, and, when a viewer is given, the check
   * that they may see the room (src/chat/access/visibility.ts): for a room they
   * may not see the page is empty and `visible` false, exactly as for a room that
   * does not exist. The seed's get_room_messages.
   */
  async getRoomMessages(
    roomId: string,
    limit: number,
    beforeId: string | null,
    includeDeleted: boolean,
    options: { viewer?: { userId: string; companyId: string | null }; withReactions?: boolean; withReactionUsers?: boolean } = {},
  ): Promise<HistoryPage> {
    const rows = await this.db.query<
      MessageWithSenderRow & { reactions: (ReactionSummary & { users?: UserView[] })[] | null; visible: boolean; cursor_found: boolean }
    >(
      historySql(options.viewer !== undefined, beforeId !== null, options.withReactions === true, options.withReactionUsers === true),
      [roomId, beforeId, limit, includeDeleted, options.viewer?.userId ?? null, options.viewer?.companyId ?? null],
    );
    const { visible, cursor_found: cursorFound } = rows[0];
    const messages = rows[0].id === null ? [] : rows;
    const reactions = options.withReactions ? new Map(messages.map((m) => [m.id, m.reactions ?? []])) : null;
    const reactionUsers = new Map<string, UserView>();
    for (const summaries of reactions?.values() ?? []) {
      for (const summary of summaries) for (const user of summary.users ?? []) reactionUsers.set(user.id, user);
    }
    // The rows keep their extra columns (sender, flags): deleting keys would slow every later read of them.
    return { visible, cursorFound, ...splitSenders(messages), reactions, reactionUsers: [...reactionUsers.values()] };
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
   * commit order), then, those row locks held, the version lock and the
   * message's version (src/chat/changes/versions.ts), and the insert. A concurrent first send of the same clientId
   * loses on the unique key: its whole statement rolls back (seq and rate-limit
   * slot included, so no gap) and the winner's message is returned.
   */
  async sendMessage(input: NewMessage, limit: RateLimit): Promise<SendOutcome> {
    let rows: (MessageWithSenderRow & { outcome: 'sent' | 'first' | null; visible: boolean })[];
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
         version_lock AS (SELECT last_seq, ${TAKE_VERSION_LOCK} FROM room),
         sent AS (
           INSERT INTO messages (room_id, sender_id, type, content, metadata, client_id, seq, version)
           SELECT $1, $2, $3, $4, $5, $6, last_seq, ${NEXT_VERSION} FROM version_lock
           RETURNING *
         )
         SELECT ${MESSAGE}, ${SENDER}, m.outcome, EXISTS (SELECT 1 FROM visible) AS visible
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
    if (row.outcome === null) return { kind: 'limited' };
    const { messages, senders } = splitSenders([stripOutcome(row)]);
    return row.outcome === 'first' ? { kind: 'retry', first: messages[0], sender: senders[0] } : { kind: 'sent', message: messages[0], sender: senders[0] };
  }

  /** Replaces the content of a live message, with a new version. Null when it is gone or deleted. */
  async editMessage(messageId: string, newContent: string): Promise<Message | null> {
    const [message] = await this.db.query<Message>(
      `WITH ${stampCtes(`SELECT id FROM messages WHERE id = $1 AND NOT is_deleted`)}
       UPDATE messages m SET content = $2, edited_at = clock_timestamp(), version = stamped.version
       FROM stamped WHERE m.id = stamped.id RETURNING ${MESSAGE}`,
      [messageId, newContent],
    );
    return message ?? null;
  }

  /**
   * Soft delete, with a new version: the row and its seq stay, its content and
   * metadata are wiped. Deleting twice keeps the first deletedAt.
   */
  async deleteMessage(messageId: string): Promise<Message | null> {
    const [message] = await this.db.query<Message>(
      `WITH ${stampCtes(`SELECT id FROM messages WHERE id = $1`)}
       UPDATE messages m SET is_deleted = true, deleted_at = coalesce(m.deleted_at, clock_timestamp()),
         content = NULL, metadata = NULL, version = stamped.version
       FROM stamped WHERE m.id = stamped.id RETURNING ${MESSAGE}`,
      [messageId],
    );
    return message ?? null;
  }
}

function stripOutcome(row: MessageWithSenderRow & { outcome?: unknown; visible?: unknown }): MessageWithSenderRow {
  const { outcome: _outcome, visible: _visible, ...message } = row;
  return message as MessageWithSenderRow;
}
