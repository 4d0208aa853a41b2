import type { DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { SENDER, splitSenders, type MessageWithSenderRow } from '../messages/message-rows';
import { Message } from '../messages/message.entity';
import type { UserView } from '../users/user.entity';


export interface SearchPage {
  /** False when `roomId` names a room the user may not see (then nothing is found). */
  visible: boolean;
  /** False when `before` names no message the user may see. */
  cursorFound: boolean;
  hits: Message[];
  /** The hits' senders (read with them). */
  senders: UserView[];
}

const statements = new Map<string, string>();

/**
 * A query word is "common" from this share of messages on (the column's
 * statistics): its matches are then found soonest by walking each room's
 * newest messages; below it, by reading the word's index entries.
 */
const COMMON_WORD_SHARE = 0.005;

/**
 * The search statement: the newest `limit` matches of the query
 * (`websearch_to_tsquery`, the 'simple' configuration the index was built
 * with) in the user's visible rooms (or the one asked), by (created_at, id),
 * keyset-paged by a message's position. Two ways to find them, and the
 * statement takes one (the other branch never runs):
 * - a word rarer than COMMON_WORD_SHARE (PostgreSQL's statistics of `search`:
 *   `most_common_elems`; a word not listed there is rarer): its entries in the
 *   GIN index, filtered to the rooms, whatever the rooms' size; words that must
 *   all match count as the rarest of them, alternatives (`or`) as the commonest;
 * - a common word, or a query of exclusions only (nothing to look up): each
 *   room's newest messages, walked back until `limit` of them match
 *   (messages_room_created_idx), so a page costs about limit / share rows per
 *   room, not every match of the history.
 * The planner would not choose between them by itself: per room it reads the
 * (room_id, search) index, whose room entries are the room's whole history.
 * Planned with its values every time.
 */
function searchSql(MESSAGE: string, withRoom: boolean, withCursor: boolean): string {
  const key = `${withRoom}:${withCursor}`;
  let text = statements.get(key);
  if (text !== undefined) return text;
  const after = withCursor ? 'AND (x.created_at, x.id) < (SELECT created_at, id FROM cursor)' : '';
  // The query inline, not from a CTE: the planner folds it to a constant and estimates its matches.
  const matches = `x.search @@ websearch_to_tsquery('simple', $2)`;
  text = `WITH visible_rooms AS (
       SELECT rm.room_id FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$3')} ${withRoom ? 'AND rm.room_id = $4' : 'AND $4::uuid IS NULL'}
     ),
     cursor AS (SELECT c.created_at, c.id FROM messages c WHERE c.id = $5 AND c.room_id IN (SELECT room_id FROM visible_rooms)),
     common AS (
       -- querytree: the words the index can look up ('T' when there are none: only exclusions).
       -- Words that must all match are as rare as the rarest; alternatives as common as the commonest.
       SELECT querytree(websearch_to_tsquery('simple', $2)) = 'T'
         OR coalesce(
           CASE WHEN strpos(querytree(websearch_to_tsquery('simple', $2)), '|') > 0 THEN max(coalesce(f.share, 0)) ELSE min(coalesce(f.share, 0)) END >= ${COMMON_WORD_SHARE},
           false) AS yes
       FROM unnest(tsvector_to_array(to_tsvector('simple', querytree(websearch_to_tsquery('simple', $2))))) AS w(lexeme)
       LEFT JOIN LATERAL (
         SELECT s.most_common_elem_freqs[array_position(s.most_common_elems::text::text[], w.lexeme)] AS share
         FROM pg_stats s WHERE s.schemaname = current_schema() AND s.tablename = 'messages' AND s.attname = 'search'
       ) f ON true
     )
     SELECT ${MESSAGE}, ${SENDER},
       EXISTS (SELECT 1 FROM visible_rooms) AS visible,
       ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor)) AS cursor_found
     FROM (
       (SELECT x.* FROM visible_rooms vr CROSS JOIN LATERAL (
          SELECT * FROM messages x
          WHERE x.room_id = vr.room_id AND ${matches} AND NOT x.is_deleted ${after}
          ORDER BY x.created_at DESC, x.id DESC LIMIT $6
        ) x
        WHERE (SELECT yes FROM common)
        ORDER BY x.created_at DESC, x.id DESC LIMIT $6)
       UNION ALL
       (SELECT x.* FROM messages x
        -- = ANY of an array: the GIN index is read for the words only, never for a room's entries.
        WHERE ${matches} AND x.room_id = ANY ((SELECT array_agg(room_id) FROM visible_rooms)::uuid[]) AND NOT x.is_deleted ${after}
          AND NOT (SELECT yes FROM common)
        ORDER BY x.created_at DESC, x.id DESC LIMIT $6)
     ) m
     LEFT JOIN users u ON u.id = m.sender_id
     RIGHT JOIN (SELECT 1) AS one ON true
     ORDER BY m.created_at DESC, m.id DESC`;
  statements.set(key, text);
  return text;
}

export function searchRepository(dataSource: DataSource, db: Database) {
  const MESSAGE = columnsOf<Message>(dataSource.getMetadata(Message)).select('m');
  return dataSource.getRepository(Message).extend({
    /** Messages matching a web-search query in the rooms `userId` may see (or one of them), newest first. */
    async search(
      userId: string,
      companyId: string | null,
      query: string,
      roomId: string | null,
      limit: number,
      beforeId: string | null,
    ): Promise<SearchPage> {
      const rows = await db.on(this.manager).query<MessageWithSenderRow & { visible: boolean; cursor_found: boolean }>(
        searchSql(MESSAGE, roomId !== null, beforeId !== null),
        [userId, query, companyId, roomId, beforeId, limit],
        { planEachTime: true },
      );
      const [first] = rows;
      const { messages: hits, senders } = splitSenders(first.id === null ? [] : rows);
      return { visible: roomId === null || first.visible, cursorFound: first.cursor_found, hits, senders };
    },
  });
}

export type SearchRepository = ReturnType<typeof searchRepository>;

