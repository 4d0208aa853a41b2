import type { Repository } from 'typeorm';
import type { Database } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { READ_COUNT_SQL, READ_POSITIONS_SQL } from '../members/member.repository';
import { REACTION_USERS_KEPT, type ReactionSummary } from '../reactions/reaction.repository';
import type { UserView } from '../users/user.entity';
import type { Message } from './message.entity';
import { SENDER, splitSenders, type MessagesWithSenders, type MessageWithSenderRow } from './message-rows';

/**
 * A history row: a message with (under `s.`) its sender and (under `page.`)
 * what the page read of it in the same statement, when asked for. The names
 * are no property of a message, so a row from any other statement has none.
 */
export type HistoryRow = MessageWithSenderRow & PageReads;

export interface PageReads {
  /** Its reaction summaries in order of first use, with whether the viewer gave each. */
  'page.reactions'?: (ReactionSummary & { mine: boolean })[];
  /** The users who reacted (the first of each reaction). */
  'page.reactionUsers'?: UserView[];
  /** The users it mentions, in order. */
  'page.mentions'?: UserView[];
  /** How many active members other than the sender have read it. */
  'page.readCount'?: number;
}

export interface HistoryPage {
  /** Newest first; each carries what `HistoryReads` asked for. */
  messages: HistoryRow[];
  senders: UserView[];
  /** False when the viewer may not see the room (then there are no messages). */
  visible: boolean;
  /** False when `before` names no message of the room. */
  cursorFound: boolean;
  /** True when the rows carry every column of a message (false: only LEAN_MESSAGE_PROPERTIES). */
  complete: boolean;
}

export interface HistoryReads {
  withReactions: boolean;
  withReactionUsers: boolean;
  withMentions: boolean;
  withReadCounts: boolean;
  /** Only the columns of LEAN_MESSAGE_PROPERTIES (what the usual fields of a page need). */
  lean: boolean;
}

/**
 * The columns a history page reads when its fields need no others: a page's
 * cost is mostly the driver turning columns into values, and the ones left
 * out (room, versions, thread and pin references, deletion time) are read by
 * few fields. Two select lists only, so a client's choice of fields cannot
 * multiply the statements each connection prepares.
 */
export const LEAN_MESSAGE_PROPERTIES: readonly (keyof Message)[] = [
  'id',
  'senderId',
  'type',
  'content',
  'metadata',
  'clientId',
  'seq',
  'createdAt',
  'editedAt',
  'isDeleted',
  'replyCount',
  'pinnedAt',
];

const LEAN = new Set<keyof Message>(LEAN_MESSAGE_PROPERTIES);

/** Whether a page whose fields read `properties` (null: any) may read the lean columns only. */
function readsOnlyLean(properties: ReadonlySet<keyof Message> | null): boolean {
  if (properties === null) return false;
  for (const property of properties) if (!LEAN.has(property)) return false;
  return true;
}

/**
 * The history statement. One row per message; when there is none, one row of
 * nulls that still carries `visible` and `cursor_found`. A page with a cursor
 * is its own statement: prepared once and planned generically, the keyset
 * bound must stay an index condition (`seq < cursor`), not a filter behind an
 * OR that a page deep in history would pay for with every row above it. Reactions are summed
 * per message in a correlated subquery (an index probe per message), as JSON
 * the driver parses once: [{ reaction, count, userIds }] in order of first use.
 */
function historySql(MESSAGE: string, withViewer: boolean, withCursor: boolean, reads: HistoryReads): string {
  const { withReactions, withReactionUsers, withMentions, withReadCounts } = reads;
  const visible = withViewer
    ? `EXISTS (SELECT 1 FROM room_members rm JOIN rooms r ON r.id = rm.room_id
         WHERE rm.room_id = $1 AND rm.user_id = $5 AND ${visibleMembershipSql('rm', 'r', '$6')})`
    : `($5::uuid IS NULL AND $6::uuid IS NULL)`;
  const reactions = withReactions
    ? `, (SELECT coalesce(json_agg(json_build_object('messageId', m.id, 'reaction', g.reaction, 'count', g.n, 'userIds', g.user_ids, 'mine', g.mine)
           ORDER BY g.first_at, g.first_id), '[]')
         FROM (SELECT reaction, count(*)::int AS n, (array_agg(user_id ORDER BY created_at, id))[1:${REACTION_USERS_KEPT}] AS user_ids,
                 coalesce(bool_or(user_id = $5), false) AS mine, min(created_at) AS first_at, min(id::text) AS first_id
               FROM message_reactions WHERE message_id = m.id GROUP BY reaction) g) AS "page.reactions"`
    : '';
  const reactionUsers = withReactionUsers
    ? `, (SELECT coalesce(json_agg(json_build_object('id', ru.id, 'displayName', ru.display_name, 'companyId', ru.company_id)), '[]')
         FROM users ru WHERE ru.id IN (
           SELECT unnest((array_agg(user_id ORDER BY created_at, id))[1:${REACTION_USERS_KEPT}]) FROM message_reactions WHERE message_id = m.id GROUP BY reaction)) AS "page.reactionUsers"`
    : '';
  const mentions = withMentions
    ? `, (SELECT coalesce(json_agg(json_build_object('id', mu.id, 'displayName', mu.display_name, 'companyId', mu.company_id) ORDER BY mm.position), '[]')
         FROM message_mentions mm JOIN users mu ON mu.id = mm.user_id WHERE mm.message_id = m.id) AS "page.mentions"`
    : '';
  // The room's read positions, read once and sorted; each message counts those at or after it by binary search.
  const readCounts = withReadCounts ? `, ${READ_COUNT_SQL('m', '(SELECT ts FROM positions)')} AS "page.readCount"` : '';
  return `WITH visible AS (SELECT ${visible} AS ok),${
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
}


/** What the room's history serves: the page (one statement with what is selected), a replay, the inbox's last messages. */
export function historyQueries(db: Database, MESSAGE: string, LEAN_MESSAGE: string) {
  const statements = new Map<string, string>();
  const historyStatement = (withViewer: boolean, withCursor: boolean, reads: HistoryReads): string => {
    const key = `${withViewer}:${withCursor}:${reads.withReactions}:${reads.withReactionUsers}:${reads.withMentions}:${reads.withReadCounts}:${reads.lean}`;
    let text = statements.get(key);
    if (text === undefined) statements.set(key, (text = historySql(reads.lean ? LEAN_MESSAGE : MESSAGE, withViewer, withCursor, reads)));
    return text;
  };
  return {
    /**
     * A room's history in ONE statement: newest first, keyset on seq (`before` is a
     * message of this room, exclusive), replies left out unless sent alsoInRoom, walking the (room_id, seq) index backwards,
     * so a page deep in history costs what the first one costs; with the senders,
     * the reaction summaries when asked, and, when a viewer is given, the check
     * that they may see the room (src/chat/access/visibility.ts): for a room they
     * may not see the page is empty and `visible` false, exactly as for a room that
     * does not exist. The seed's get_room_messages.
     */
    async getRoomMessages(this: Repository<Message>, 
      roomId: string,
      limit: number,
      beforeId: string | null,
      includeDeleted: boolean,
      options: { viewer?: { userId: string; companyId: string | null }; properties?: ReadonlySet<keyof Message> | null } & Partial<Omit<HistoryReads, 'lean'>> = {},
    ): Promise<HistoryPage> {
      const reads: HistoryReads = {
        withReactions: options.withReactions === true,
        withReactionUsers: options.withReactionUsers === true,
        withMentions: options.withMentions === true,
        withReadCounts: options.withReadCounts === true,
        lean: readsOnlyLean(options.properties ?? null),
      };
      const rows = await db.on(this.manager).query<HistoryRow & { visible: boolean; cursor_found: boolean }>(
        historyStatement(options.viewer !== undefined, beforeId !== null, reads),
        [roomId, beforeId, limit, includeDeleted, options.viewer?.userId ?? null, options.viewer?.companyId ?? null],
      );
      const { visible, cursor_found: cursorFound } = rows[0];
      // The rows keep their extra columns (sender, flags, what was read with them): deleting keys would slow every later read of them.
      return { visible, cursorFound, complete: !reads.lean, ...splitSenders(rows[0].id === null ? [] : rows) };
    },

    /** Messages after seq `afterSeq`, oldest first: the replay of a resumed subscription. */
    async getMessagesAfter(this: Repository<Message>, roomId: string, afterSeq: number, limit: number): Promise<Message[]> {
      return db.on(this.manager).query<Message>(`SELECT ${MESSAGE} FROM messages m WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3`, [
        roomId,
        afterSeq,
        limit,
      ]);
    },

    /** The newest message of each room that is not deleted nor a reply kept to its thread, with its sender; one index probe per room. */
    async lastMessages(this: Repository<Message>, roomIds: readonly string[]): Promise<MessagesWithSenders> {
      const rows = await db.on(this.manager).query<MessageWithSenderRow>(
        `SELECT ${MESSAGE}, ${SENDER}
         FROM unnest($1::uuid[]) AS r(id)
         CROSS JOIN LATERAL (
           SELECT * FROM messages WHERE room_id = r.id AND NOT is_deleted AND (parent_id IS NULL OR also_in_room) ORDER BY seq DESC LIMIT 1
         ) m LEFT JOIN users u ON u.id = m.sender_id`,
        [roomIds],
      );
      return splitSenders(rows);
    },
  };
}
