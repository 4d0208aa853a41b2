import type { Queryable } from '../../db/database';
import { isUniqueViolation } from '../../db/sql';
import { visibleMembershipSql } from '../access/visibility';
import { NEXT_VERSION, stampAfter, stampCtes, TAKE_VERSION_LOCK } from '../changes/versions';
import { admitSql, type RateLimit } from '../limits/rate-limit.repository';
import { READ_COUNT_SQL, READ_POSITIONS_SQL } from '../members/member.repository';
import { membersTable, type Member } from '../members/member.table';
import { REACTION_USERS_KEPT, type ReactionSummary } from '../reactions/reaction.repository';
import { messageNotFound } from '../errors';
import { RateLimitedAction, type MessageType, type RoomType } from '../types';
import type { UserView } from '../users/user.table';
import { editsTable, type MessageEdit } from './edit.table';
import { messagesTable as t, type Message } from './message.table';

const MESSAGE = t.select('m');

/** Earlier versions kept per message: an edit past this drops the oldest. */
export const MAX_EDITS_KEPT = 100;

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
  /** The users who reacted (the first of each reaction), when asked for. */
  reactionUsers: UserView[];
  /** The reactions the viewer gave each message, when reactions were asked for with a viewer. */
  myReactions: Map<string, string[]> | null;
  /** The ids of the users each message mentions, in order, when asked for. */
  mentions: Map<string, string[]> | null;
  mentionedUsers: UserView[];
  /** How many active members other than the sender have read each message, when asked for. */
  readCounts: Map<string, number> | null;
}

export interface HistoryReads {
  withReactions: boolean;
  withReactionUsers: boolean;
  withMentions: boolean;
  withReadCounts: boolean;
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
function historySql(withViewer: boolean, withCursor: boolean, reads: HistoryReads): string {
  const { withReactions, withReactionUsers, withMentions, withReadCounts } = reads;
  const key = `${withViewer}:${withCursor}:${withReactions}:${withReactionUsers}:${withMentions}:${withReadCounts}`;
  let text = historyStatements.get(key);
  if (text !== undefined) return text;
  const visible = withViewer
    ? `EXISTS (SELECT 1 FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.room_id = $1 AND rm.user_id = $5 AND ${visibleMembershipSql('rm', 'r', '$6')})`
    : `($5::uuid IS NULL AND $6::uuid IS NULL)`;
  const reactions = withReactions
    ? `, (SELECT coalesce(json_agg(json_build_object('messageId', m.id, 'reaction', g.reaction, 'count', g.n, 'userIds', g.user_ids, 'mine', g.mine)
           ORDER BY g.first_at, g.first_id), '[]')
         FROM (SELECT reaction, count(*)::int AS n, (array_agg(user_id ORDER BY created_at, id))[1:${REACTION_USERS_KEPT}] AS user_ids,
                 coalesce(bool_or(user_id = $5), false) AS mine, min(created_at) AS first_at, min(id::text) AS first_id
               FROM message_reactions WHERE message_id = m.id GROUP BY reaction) g) AS reactions`
    : '';
  const reactionUsers = withReactionUsers
    ? `, (SELECT coalesce(json_agg(json_build_object('id', ru.id, 'displayName', ru.display_name, 'companyId', ru.company_id)), '[]')
         FROM users ru WHERE ru.id IN (
           SELECT unnest((array_agg(user_id ORDER BY created_at, id))[1:${REACTION_USERS_KEPT}]) FROM message_reactions WHERE message_id = m.id GROUP BY reaction)) AS reaction_users`
    : '';
  const mentions = withMentions
    ? `, (SELECT coalesce(json_agg(json_build_object('id', mu.id, 'displayName', mu.display_name, 'companyId', mu.company_id) ORDER BY mm.position), '[]')
         FROM message_mentions mm JOIN users mu ON mu.id = mm.user_id WHERE mm.message_id = m.id) AS mentions`
    : '';
  // The room's read positions, read once and sorted; each message counts those at or after it by binary search.
  const readCounts = withReadCounts ? `, ${READ_COUNT_SQL('m', '(SELECT ts FROM positions)')} AS read_count` : '';
  text = `WITH visible AS (SELECT ${visible} AS ok),${
    withReadCounts
      ? `
     positions AS MATERIALIZED (SELECT ${READ_POSITIONS_SQL('$1::uuid')} AS ts),`
      : ''
  }
     cursor AS (SELECT seq FROM messages WHERE id = $2 AND room_id = $1),
     page AS (
       SELECT * FROM messages
       WHERE room_id = $1 AND (SELECT ok FROM visible)
         ${withCursor ? 'AND seq < (SELECT seq FROM cursor)' : 'AND $2::uuid IS NULL'}
         AND ($4 OR NOT is_deleted) AND (parent_id IS NULL OR also_in_room)
       ORDER BY seq DESC LIMIT $3
     )
     SELECT ${MESSAGE}, ${SENDER}${reactions}${reactionUsers}${mentions}${readCounts},
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
  /** A reply's thread root (checked by the service, locked and checked again by the statement). */
  parentId: string | null;
  alsoInRoom: boolean;
  /** Users mentioned (active members of the room, checked by the service), in order. */
  mentionIds: string[];
}

/** What a send came to; the service turns each into its answer. */
export type SendOutcome =
  /** Stored; a reply also changed its thread root (`rootId`). */
  | { kind: 'sent'; message: Message; sender: UserView; rootId: string | null }
  /** The reply's root is no longer a live top-level message of the room. */
  | { kind: 'parent-gone' }
  /** The sender's clientId named a message stored before (anywhere): it is returned, nothing is stored. */
  | { kind: 'retry'; first: Message; sender?: UserView }
  /** The room is not one the sender may see. */
  | { kind: 'hidden' }
  | { kind: 'limited' };

/** The sender's columns the API shows, under `s.` (what splitSenders reads). */
export const SENDER = `u.id AS "s.id", u.display_name AS "s.displayName", u.company_id AS "s.companyId"`;

/** Rows carrying a message and (under `s.`) its sender. */
export type MessageWithSenderRow = Message & Record<string, unknown>;

export function splitSenders(rows: MessageWithSenderRow[]): MessagesWithSenders {
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
  async findVisible(ids: readonly string[], userId: string, companyId: string | null): Promise<{ message: Message; me: Member; roomType: RoomType }[]> {
    const rows = await this.db.query<Message & Record<string, unknown>>(
      `SELECT ${MESSAGE}, ${membersTable.selectPrefixed('rm', 'me')}, r.type AS "room.type"
       FROM messages m
       JOIN rooms r ON r.id = m.room_id
       JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = $2
       WHERE m.id = ANY($1::uuid[]) AND ${visibleMembershipSql('rm', 'r', '$3')}`,
      [ids, userId, companyId],
    );
    return rows.map((row) => ({ message: row, me: membersTable.pick(row, 'me') as Member, roomType: row['room.type'] as RoomType }));
  }

  /**
   * A room's history in ONE statement: newest first, keyset on seq (`before` is a
   * message of this room, exclusive), replies left out unless sent alsoInRoom, walking the (room_id, seq) index backwards,
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
    options: { viewer?: { userId: string; companyId: string | null } } & Partial<HistoryReads> = {},
  ): Promise<HistoryPage> {
    const reads: HistoryReads = {
      withReactions: options.withReactions === true,
      withReactionUsers: options.withReactionUsers === true,
      withMentions: options.withMentions === true,
      withReadCounts: options.withReadCounts === true,
    };
    const rows = await this.db.query<
      MessageWithSenderRow & {
        reactions: (ReactionSummary & { mine: boolean })[] | null;
        reaction_users: UserView[] | null;
        mentions: UserView[] | null;
        read_count: number | null;
        visible: boolean;
        cursor_found: boolean;
      }
    >(historySql(options.viewer !== undefined, beforeId !== null, reads), [
      roomId,
      beforeId,
      limit,
      includeDeleted,
      options.viewer?.userId ?? null,
      options.viewer?.companyId ?? null,
    ]);
    const { visible, cursor_found: cursorFound } = rows[0];
    const messages = rows[0].id === null ? [] : rows;
    const reactions = reads.withReactions ? new Map<string, ReactionSummary[]>() : null;
    const myReactions = reads.withReactions && options.viewer ? new Map<string, string[]>() : null;
    const reactionUsers = new Map<string, UserView>();
    for (const m of messages) {
      const summaries = m.reactions ?? [];
      reactions?.set(m.id, summaries);
      myReactions?.set(m.id, summaries.filter((r) => r.mine).map((r) => r.reaction));
      for (const user of m.reaction_users ?? []) reactionUsers.set(user.id, user);
    }
    const mentionedUsers = new Map<string, UserView>();
    const mentions = reads.withMentions
      ? new Map(
          messages.map((m) => {
            for (const user of m.mentions ?? []) mentionedUsers.set(user.id, user);
            return [m.id, (m.mentions ?? []).map((u) => u.id)];
          }),
        )
      : null;
    const readCounts = reads.withReadCounts ? new Map(messages.map((m) => [m.id, m.read_count ?? 0])) : null;
    // The rows keep their extra columns (sender, flags): deleting keys would slow every later read of them.
    return {
      visible,
      cursorFound,
      ...splitSenders(messages),
      reactions,
      reactionUsers: [...reactionUsers.values()],
      myReactions,
      mentions,
      mentionedUsers: [...mentionedUsers.values()],
      readCounts,
    };
  }

  /** Messages after seq `afterSeq`, oldest first: the replay of a resumed subscription. */
  async getMessagesAfter(roomId: string, afterSeq: number, limit: number): Promise<Message[]> {
    return this.db.query<Message>(`SELECT ${MESSAGE} FROM messages m WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`, [
      roomId,
      afterSeq,
      limit,
    ]);
  }

  /** The newest message of each room that is not deleted nor a reply kept to its thread, with its sender; one index probe per room. */
  async lastMessages(roomIds: readonly string[]): Promise<MessagesWithSenders> {
    const rows = await this.db.query<MessageWithSenderRow>(
      `SELECT ${MESSAGE}, ${SENDER}
       FROM unnest($1::uuid[]) AS r(id)
       CROSS JOIN LATERAL (
         SELECT * FROM messages WHERE room_id = r.id AND NOT is_deleted AND (parent_id IS NULL OR also_in_room) ORDER BY seq DESC LIMIT 1
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
    let rows: (MessageWithSenderRow & { outcome: 'sent' | 'first' | null; visible: boolean; parent_ok: boolean; root_id: string | null })[];
    try {
      rows = await this.db.query(
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
         admitted AS (
           ${admitSql(
             { user: '$2::uuid', scope: '$1::uuid', action: `'${RateLimitedAction.MESSAGE}'`, window: '$8', max: '$9' },
             'EXISTS (SELECT 1 FROM visible) AND NOT EXISTS (SELECT 1 FROM first) AND ($10::uuid IS NULL OR EXISTS (SELECT 1 FROM parent))',
           )}
         ),
         room AS (
           UPDATE rooms SET last_seq = last_seq + 1, updated_at = clock_timestamp(),
             last_message_at = CASE WHEN $10::uuid IS NULL OR $11 THEN clock_timestamp() ELSE last_message_at END
           WHERE id = $1 AND EXISTS (SELECT 1 FROM admitted)
           RETURNING last_seq
         ),
         version_lock AS (SELECT last_seq, ${TAKE_VERSION_LOCK} FROM room),
         sent AS (
           INSERT INTO messages (room_id, sender_id, type, content, metadata, client_id, seq, parent_id, also_in_room, version)
           SELECT $1, $2, $3, $4, $5, $6, last_seq, $10, $10::uuid IS NOT NULL AND $11, ${NEXT_VERSION} FROM version_lock
           RETURNING *
         ),
         -- The root counts the reply and gets a version of its own (a messageUpdated).
         root AS (
           UPDATE messages p SET reply_count = p.reply_count + 1, version = ${NEXT_VERSION}, revision = p.revision + 1,
             last_reply_at = greatest(coalesce(p.last_reply_at, '-infinity'), s.created_at)
           FROM sent s WHERE p.id = s.parent_id
           RETURNING p.id
         ),
         mentioned AS (
           INSERT INTO message_mentions (message_id, user_id, room_id, created_at, position)
           SELECT s.id, k.user_id, s.room_id, s.created_at, k.position FROM sent s, unnest($12::uuid[]) WITH ORDINALITY AS k(user_id, position)
         )
         SELECT ${MESSAGE}, ${SENDER}, m.outcome, EXISTS (SELECT 1 FROM visible) AS visible,
           ($10::uuid IS NULL OR EXISTS (SELECT 1 FROM parent)) AS parent_ok, (SELECT id FROM root) AS root_id
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
    if (row.outcome === 'first') return { kind: 'retry', first: stripOutcome(row), sender: splitSenders([row]).senders[0] };
    if (!row.parent_ok) return { kind: 'parent-gone' };
    if (row.outcome === null) return { kind: 'limited' };
    return { kind: 'sent', message: stripOutcome(row), sender: splitSenders([row]).senders[0], rootId: row.root_id };
  }

  /**
   * Replaces the content of a live message in one statement: the replaced
   * content is kept as an earlier version (the newest MAX_EDITS_KEPT are kept,
   * the oldest go first), the message gets a new version, and
   * with `mentionIds` (not null) its mentions become those users. Null when it
   * is gone or deleted.
   */
  async editMessage(messageId: string, newContent: string, mentionIds: string[] | null = null): Promise<Message | null> {
    const [message] = await this.db.query<Message>(
      `WITH ${stampCtes(`SELECT id FROM messages WHERE id = $1 AND NOT is_deleted`)},
         kept AS (INSERT INTO message_edits (message_id, content) SELECT m.id, m.content FROM messages m JOIN stamped s ON s.id = m.id),
         -- The statement's snapshot does not see the version just kept: the newest $4 - 1 earlier ones stay with it.
         pruned AS (
           DELETE FROM message_edits WHERE id IN (
             SELECT e.id FROM message_edits e JOIN stamped s ON s.id = e.message_id ORDER BY e.replaced_at DESC, e.id DESC OFFSET $4 - 1)
         ),
         edited AS (
           UPDATE messages m SET content = $2, edited_at = clock_timestamp(), version = stamped.version, revision = m.revision + 1
           FROM stamped WHERE m.id = stamped.id RETURNING m.*
         ),
         unmentioned AS (
           DELETE FROM message_mentions mm USING edited
           WHERE $3::uuid[] IS NOT NULL AND mm.message_id = edited.id AND mm.user_id <> ALL($3::uuid[])
         ),
         mentioned AS (
           INSERT INTO message_mentions (message_id, user_id, room_id, created_at, position)
           SELECT e.id, k.user_id, e.room_id, e.created_at, k.position FROM edited e, unnest($3::uuid[]) WITH ORDINALITY AS k(user_id, position)
           ON CONFLICT (message_id, user_id) DO UPDATE SET position = EXCLUDED.position
         )
       SELECT ${MESSAGE} FROM edited m`,
      [messageId, newContent, mentionIds, MAX_EDITS_KEPT],
    );
    return message ?? null;
  }

  /**
   * Locks a message's row and its thread root's (a reply before its root): run
   * first in the transaction that deletes, so the delete statement's snapshot,
   * taken after, sees every reply deleted before it (the root's last reply is
   * recounted from it).
   */
  async lockForDelete(messageId: string): Promise<void> {
    await this.db.query(
      `WITH target AS (SELECT id, parent_id FROM messages WHERE id = $1 FOR UPDATE)
       SELECT 1 FROM messages p JOIN target t ON p.id = t.parent_id FOR UPDATE OF p`,
      [messageId],
    );
  }

  /**
   * Soft delete, with a new version: the row and its seq stay; its content,
   * metadata, mentions, earlier versions and pin go. A reply that is deleted
   * leaves its root's counters (the root gets a version too: `rootId`). Run
   * after lockForDelete in the same transaction. Deleting twice keeps the first deletedAt.
   */
  async deleteMessage(messageId: string): Promise<{ message: Message; rootId: string | null } | null> {
    const [row] = await this.db.query<Message & { root_id: string | null }>(
      `WITH target AS (SELECT id, parent_id, is_deleted FROM messages WHERE id = $1 FOR UPDATE),
         root AS (SELECT p.id FROM messages p JOIN target t ON p.id = t.parent_id WHERE NOT t.is_deleted FOR UPDATE OF p),
         version_lock AS (
           SELECT ${TAKE_VERSION_LOCK} FROM (SELECT (SELECT count(*) FROM target) + (SELECT count(*) FROM root) AS n) AS all_locked WHERE all_locked.n > 0
         ),
         stamped AS (SELECT t.id, ${NEXT_VERSION} AS version FROM target t, version_lock),
         deleted AS (
           UPDATE messages m SET is_deleted = true, deleted_at = coalesce(m.deleted_at, clock_timestamp()),
             content = NULL, metadata = NULL, pinned_at = NULL, pinned_by = NULL, version = stamped.version, revision = m.revision + 1
           FROM stamped WHERE m.id = stamped.id RETURNING m.*
         ),
         unmentioned AS (DELETE FROM message_mentions WHERE message_id IN (SELECT id FROM deleted)),
         forgotten AS (DELETE FROM message_edits WHERE message_id IN (SELECT id FROM deleted)),
         recounted AS (
           UPDATE messages p SET reply_count = p.reply_count - 1, version = ${NEXT_VERSION}, revision = p.revision + 1,
             last_reply_at = (SELECT max(r.created_at) FROM messages r WHERE r.parent_id = p.id AND NOT r.is_deleted AND r.id <> $1)
           FROM root, version_lock WHERE p.id = root.id RETURNING p.id
         )
       SELECT ${MESSAGE}, (SELECT id FROM recounted) AS root_id FROM deleted m`,
      [messageId],
    );
    if (!row) return null;
    const { root_id: rootId, ...message } = row;
    return { message: message as Message, rootId };
  }

  /**
   * Locks a message's row, then its room's (message rows before room rows, as
   * everywhere): run first in the transaction that pins, so the count of pins
   * the next statement reads is the count under the room's lock.
   */
  async lockForPin(messageId: string): Promise<void> {
    await this.db.query(
      `WITH target AS (SELECT id, room_id FROM messages WHERE id = $1 FOR UPDATE)
       SELECT 1 FROM rooms r JOIN target t ON r.id = t.room_id FOR UPDATE OF r`,
      [messageId],
    );
  }

  /**
   * Pins (`by` a user) or unpins a message, with a new version, idempotently;
   * never past `maxPins` in its room (`full`). Run after lockForPin in the same
   * transaction. `changed` false when it already was so; null when the message is gone.
   */
  async setPinned(messageId: string, by: string | null, maxPins: number): Promise<{ message: Message; changed: boolean; full: boolean } | null> {
    const [row] = await this.db.query<Message & { changed: boolean; full: boolean }>(
      `WITH target AS (SELECT id, room_id, pinned_at FROM messages WHERE id = $1),
         pins AS (SELECT count(*) AS n FROM messages WHERE room_id = (SELECT room_id FROM target) AND pinned_at IS NOT NULL),
         wanted AS (
           SELECT t.id FROM target t, pins
           WHERE ($2::uuid IS NULL) <> (t.pinned_at IS NULL) AND ($2::uuid IS NULL OR pins.n < $3)
         ),
         ${stampAfter('wanted')},
         changed AS (
           UPDATE messages m SET pinned_at = CASE WHEN $2::uuid IS NULL THEN NULL ELSE clock_timestamp() END, pinned_by = $2, version = stamped.version, revision = m.revision + 1
           FROM stamped WHERE m.id = stamped.id RETURNING m.*
         )
       SELECT ${MESSAGE}, true AS changed, false AS full FROM changed m
       UNION ALL
       SELECT ${MESSAGE}, false, $2::uuid IS NOT NULL AND m.pinned_at IS NULL AND (SELECT n FROM pins) >= $3 FROM messages m
       WHERE m.id = $1 AND NOT EXISTS (SELECT 1 FROM changed)`,
      [messageId, by, maxPins],
    );
    if (!row) return null;
    const { changed, full, ...message } = row;
    return { message: message as Message, changed, full };
  }

  /** A thread's replies, newest first, keyset on seq (`beforeId` a reply of it, exclusive); null when `beforeId` is not one. */
  async getThread(parentId: string, limit: number, beforeId: string | null): Promise<MessagesWithSenders | null> {
    const rows = await this.db.query<MessageWithSenderRow & { cursor_found: boolean }>(
      `WITH cursor AS (SELECT seq FROM messages WHERE id = $2 AND parent_id = $1)
       SELECT ${MESSAGE}, ${SENDER}, ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor)) AS cursor_found
       FROM (
         SELECT * FROM messages WHERE parent_id = $1 ${beforeId === null ? 'AND $2::uuid IS NULL' : 'AND seq < (SELECT seq FROM cursor)'}
         ORDER BY seq DESC LIMIT $3
       ) m LEFT JOIN users u ON u.id = m.sender_id
       RIGHT JOIN (SELECT 1) AS one ON true
       ORDER BY m.seq DESC`,
      [parentId, beforeId, limit],
    );
    if (!rows[0].cursor_found) return null;
    return splitSenders(rows[0].id === null ? [] : rows);
  }

  /**
   * The messages that mention `userId`, in rooms they may see, not deleted,
   * newest first, keyset-paged by a message they were mentioned in: an index
   * range scan on (user_id, created_at, message_id) whatever the depth. Null when
   * `beforeId` names no such message.
   */
  async mentionsOf(userId: string, companyId: string | null, limit: number, beforeId: string | null): Promise<MessagesWithSenders | null> {
    const rows = await this.db.query<MessageWithSenderRow & { cursor_found: boolean }>(
      `WITH cursor AS (SELECT created_at, message_id FROM message_mentions WHERE user_id = $1 AND message_id = $3)
       SELECT ${MESSAGE}, ${SENDER}, ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor)) AS cursor_found
       FROM (
         SELECT m.* FROM message_mentions mm
         JOIN messages m ON m.id = mm.message_id
         JOIN room_members rm ON rm.room_id = mm.room_id AND rm.user_id = mm.user_id
         JOIN rooms r ON r.id = mm.room_id
         WHERE mm.user_id = $1 AND NOT m.is_deleted AND ${visibleMembershipSql('rm', 'r', '$2')}
           ${beforeId === null ? 'AND $3::uuid IS NULL' : 'AND (mm.created_at, mm.message_id) < (SELECT created_at, message_id FROM cursor)'}
         ORDER BY mm.created_at DESC, mm.message_id DESC LIMIT $4
       ) m LEFT JOIN users u ON u.id = m.sender_id
       RIGHT JOIN (SELECT 1) AS one ON true
       ORDER BY m.created_at DESC, m.id DESC`,
      [userId, companyId, beforeId, limit],
    );
    if (!rows[0].cursor_found) return null;
    return splitSenders(rows[0].id === null ? [] : rows);
  }

  /** The users each message mentions, in order, with those users; one statement. */
  async mentionsOfMessages(messageIds: readonly string[]): Promise<{ perMessage: Map<string, string[]>; users: UserView[] }> {
    const rows = await this.db.query<{ message_id: string; user_id: string; display_name: string | null; company_id: string | null }>(
      `SELECT mm.message_id, mm.user_id, u.display_name, u.company_id
       FROM message_mentions mm JOIN users u ON u.id = mm.user_id
       WHERE mm.message_id = ANY($1::uuid[]) ORDER BY mm.message_id, mm.position`,
      [messageIds],
    );
    const perMessage = new Map<string, string[]>();
    const users = new Map<string, UserView>();
    for (const row of rows) {
      let ids = perMessage.get(row.message_id);
      if (!ids) perMessage.set(row.message_id, (ids = []));
      ids.push(row.user_id);
      users.set(row.user_id, { id: row.user_id, displayName: row.display_name, companyId: row.company_id });
    }
    return { perMessage, users: [...users.values()] };
  }

  /** The most recent `limit` earlier versions of each message, oldest first; one statement, an index range scan per key that stops at the limit. */
  async editsOf(keys: readonly { messageId: string; limit: number }[]): Promise<MessageEdit[][]> {
    const rows = await this.db.query<MessageEdit & { n: string }>(
      `SELECT k.n, ${editsTable.select('me')}
       FROM unnest($1::uuid[], $2::int[]) WITH ORDINALITY AS k(message_id, lim, n)
       CROSS JOIN LATERAL (
         SELECT * FROM message_edits WHERE message_id = k.message_id ORDER BY replaced_at DESC, id DESC LIMIT k.lim
       ) me
       ORDER BY k.n, me.replaced_at, me.id`,
      [keys.map((k) => k.messageId), keys.map((k) => k.limit)],
    );
    const lists = keys.map(() => [] as MessageEdit[]);
    for (const { n, ...edit } of rows) lists[Number(n) - 1].push(edit);
    return lists;
  }

  /** The distinct authors of each thread's live replies, in order of their first reply, at most `max` per thread; one statement. */
  async threadParticipants(parentIds: readonly string[], max: number): Promise<Map<string, string[]>> {
    const rows = await this.db.query<{ parent_id: string; sender_id: string }>(
      `SELECT parent_id, sender_id FROM (
         SELECT parent_id, sender_id, row_number() OVER (PARTITION BY parent_id ORDER BY min(seq)) AS n, min(seq) AS first
         FROM messages WHERE parent_id = ANY($1::uuid[]) AND NOT is_deleted AND sender_id IS NOT NULL
         GROUP BY parent_id, sender_id
       ) authors WHERE n <= $2 ORDER BY parent_id, first`,
      [parentIds, max],
    );
    const perParent = new Map<string, string[]>();
    for (const row of rows) {
      let ids = perParent.get(row.parent_id);
      if (!ids) perParent.set(row.parent_id, (ids = []));
      ids.push(row.sender_id);
    }
    return perParent;
  }

  /** The pinned messages of each room, most recently pinned first; one statement. */
  async pinnedIn(roomIds: readonly string[]): Promise<Message[]> {
    return this.db.query<Message>(
      `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ANY($1::uuid[]) AND m.pinned_at IS NOT NULL ORDER BY m.room_id, m.pinned_at DESC, m.id`,
      [roomIds],
    );
  }

  /** How many pins a room has. */
  async countPinned(roomId: string): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE room_id = $1 AND pinned_at IS NOT NULL`, [roomId]);
    return row.n;
  }
}

function stripOutcome(row: MessageWithSenderRow & { outcome?: unknown; visible?: unknown; parent_ok?: unknown; root_id?: unknown }): Message {
  const { outcome: _outcome, visible: _visible, parent_ok: _parentOk, root_id: _rootId, ...message } = row;
  return message as Message;
}
