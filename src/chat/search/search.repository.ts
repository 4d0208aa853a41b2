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

/**
 * The most a lookup may cost: the index entries of its words in the caller's
 * rooms (as PostgreSQL's statistics estimate them) plus one per room and word
 * it looks up; a search that would cost more walks instead. The lookup also
 * stops at this many candidates and walks then, so statistics that are wrong
 * cannot make it read more rows.
 */
export const SEARCH_LOOKUP_ROWS = 5_000;

/**
 * The most messages one search examines when it walks the caller's rooms
 * newest first, shared between the rooms (each room at least one). The walk
 * stops earlier when a page is full.
 */
export const SEARCH_WALK_ROWS = 10_000;

/** The index expression (migration 1765317000000): each word of a message prefixed with its room's key. */
const ROOM_WORDS = 'chat_room_words(x.room_id, x.search)';
const INDEX_NAME = 'messages_room_words_idx';

const statements = new Map<string, string>();

/**
 * The search statement: the newest `limit` matches of the query
 * (`websearch_to_tsquery`, the 'simple' configuration of `search`) in the
 * user's visible rooms (or the one asked), by (created_at, id), keyset-paged by
 * a message's position. It finds them one of two ways and runs only one:
 * - the lookup: the index entries of one word per alternative (`or`) in the
 *   visible rooms only (`<room key><word>`), the rarest word of each: those
 *   messages are the candidates, checked against the whole query. Chosen when
 *   the statistics put those entries at SEARCH_LOOKUP_ROWS or fewer, unless a
 *   walk would be cheaper and complete;
 * - the walk: each room's newest messages, examined newest first until the
 *   page is full or the room's share of SEARCH_WALK_ROWS is spent. Chosen for a
 *   word found often, a query of exclusions only (nothing to look up), and when
 *   the lookup finds more candidates than its bound.
 * A walk that spends a room's share without filling the page leaves older
 * messages of that room unexamined: the page then holds only matches newer
 * than the newest such edge, so a page never skips a match that `before` the
 * last hit would not find again.
 * Planned with its values every time (the query's terms are folded in).
 */
function searchSql(MESSAGE: string, withRoom: boolean, withCursor: boolean): string {
  const key = `${withRoom}:${withCursor}`;
  let text = statements.get(key);
  if (text !== undefined) return text;
  const after = (alias: string) => (withCursor ? `AND (${alias}.created_at, ${alias}.id) < (SELECT created_at, id FROM cursor)` : '');
  const query = `websearch_to_tsquery('simple', $2)`;
  text = `WITH visible_rooms AS (
       SELECT rm.room_id, chat_room_key(rm.room_id) AS key, r.last_seq AS size
       FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$3')} ${withRoom ? 'AND rm.room_id = $4' : 'AND $4::uuid IS NULL'}
     ),
     cursor AS (SELECT c.created_at, c.id FROM messages c WHERE c.id = $5 AND c.room_id IN (SELECT room_id FROM visible_rooms)),
     -- The words the index can look up, numbered by alternative: querytree drops exclusions and keeps '|' between alternatives.
     terms AS (
       SELECT t.lexeme, t.alt FROM (
         SELECT regexp_replace(t.m[1], '([''\\\\])\\1', '\\1', 'g') AS lexeme, sum((t.m[2] IS NOT NULL)::int) OVER (ORDER BY t.n) AS alt
         FROM regexp_matches(querytree(${query}), '''((?:[^'']|'''')*)''|(\\|)', 'g') WITH ORDINALITY AS t(m, n)
       ) t WHERE t.lexeme IS NOT NULL
     ),
     -- The index's commonest keys and how many messages hold each (ANALYZE's statistics of the expression).
     common_keys AS (
       SELECT e.key, e.share * (1 - s.null_frac) * greatest(c.reltuples, 0) AS entries
       FROM pg_stats s
       CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(key, share)
       CROSS JOIN (SELECT reltuples FROM pg_class WHERE oid = 'messages'::regclass) c
       WHERE s.schemaname = current_schema() AND s.tablename = '${INDEX_NAME}' AND e.key IS NOT NULL
     ),
     -- Each word's entries in each visible room; a key the statistics do not list is rarer than all they list: 0.
     estimates AS (
       SELECT vr.room_id, t.alt, t.lexeme, coalesce(ck.entries, 0) AS entries
       FROM terms t CROSS JOIN visible_rooms vr LEFT JOIN common_keys ck ON ck.key = vr.key || t.lexeme
     ),
     -- The word each alternative is looked up by: its rarest in these rooms (the longer on a tie).
     chosen AS (
       SELECT DISTINCT ON (alt) alt, lexeme, entries FROM (SELECT alt, lexeme, sum(entries) AS entries FROM estimates GROUP BY alt, lexeme) w
       ORDER BY alt, entries, length(lexeme) DESC, lexeme
     ),
     -- Each room's share of the walk: as many of its messages as it has, up to a level that spends SEARCH_WALK_ROWS.
     sized AS (
       SELECT vr.room_id, vr.size, count(*) OVER () - row_number() OVER w + 1 AS rest,
         coalesce(sum(vr.size) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS smaller
       FROM visible_rooms vr WINDOW w AS (ORDER BY vr.size, vr.room_id)
     ),
     level AS (SELECT max((${SEARCH_WALK_ROWS} - smaller)::float8 / rest) FILTER (WHERE (${SEARCH_WALK_ROWS} - smaller)::float8 / rest < size) AS rows FROM sized),
     budgets AS (
       SELECT s.room_id, s.size, CASE WHEN l.rows IS NULL THEN s.size ELSE greatest(1, least(s.size, floor(l.rows)))::int END AS budget,
         -- The rows a walk of the room is expected to examine for a page: limit / (its matches / its size).
         CASE WHEN coalesce(e.matches, 0) > 0 THEN least(s.size, ceil($6 * s.size / e.matches)) ELSE s.size END AS expected
       FROM sized s CROSS JOIN level l
       -- A room's expected matches: each alternative as common as its rarest word, alternatives added.
       LEFT JOIN (SELECT room_id, sum(entries) AS matches FROM (SELECT room_id, alt, min(entries) AS entries FROM estimates GROUP BY room_id, alt) a GROUP BY room_id) e
         ON e.room_id = s.room_id
     ),
     -- The lookup's cost: its entries, and one index descent per key (a room and a word).
     lookup_cost AS (
       SELECT (SELECT coalesce(sum(entries), 0) FROM chosen) + (SELECT count(*) FROM chosen) * (SELECT count(*) FROM visible_rooms) AS rows
     ),
     plan AS (
       SELECT numnode(${query}) > 0 AND EXISTS (SELECT 1 FROM terms) AND lc.rows <= ${SEARCH_LOOKUP_ROWS}
           -- A walk wins when it is expected to fill the page in every room within its share, and to read less.
           AND NOT coalesce((SELECT bool_and(expected <= budget) AND sum(expected) < lc.rows FROM budgets), false) AS lookup,
         numnode(${query}) > 0 AS anything
       FROM lookup_cost lc
     ),
     candidates AS MATERIALIZED (
       -- Deleted messages have no words, so no entries; the cap holds whatever the statistics said.
       SELECT x.id, x.room_id, x.created_at, (NOT x.is_deleted AND x.search @@ ${query}) AS hit
       FROM messages x
       WHERE ${ROOM_WORDS} && (SELECT array_agg(vr.key || c.lexeme) FROM visible_rooms vr CROSS JOIN chosen c)
         AND (SELECT lookup FROM plan)
       LIMIT ${SEARCH_LOOKUP_ROWS + 1}
     ),
     overflow AS (SELECT count(*) > ${SEARCH_LOOKUP_ROWS} AS yes FROM candidates),
     looked_up AS (
       SELECT c.id, c.created_at FROM candidates c
       WHERE c.hit AND c.room_id IN (SELECT room_id FROM visible_rooms) ${after('c')} AND NOT (SELECT yes FROM overflow)
       ORDER BY c.created_at DESC, c.id DESC LIMIT $6
     ),
     walked AS (
       SELECT y.id, y.created_at, y.hit, y.edge FROM budgets b CROSS JOIN LATERAL (
         SELECT w.id, w.created_at, w.hit, w.n = b.budget AND b.budget < b.size AS edge FROM (
           SELECT v.id, v.created_at, (NOT v.is_deleted AND v.search @@ ${query}) AS hit, row_number() OVER () AS n FROM (
             SELECT x.id, x.created_at, x.is_deleted, x.search FROM messages x
             WHERE x.room_id = b.room_id ${after('x')}
             ORDER BY x.created_at DESC, x.id DESC LIMIT b.budget
           ) v
         ) w
         -- Stops at a page of hits, or at the room's last examined message when its share ran out first.
         WHERE w.hit OR (w.n = b.budget AND b.budget < b.size)
         LIMIT $6
       ) y
       WHERE (SELECT anything FROM plan) AND (NOT (SELECT lookup FROM plan) OR (SELECT yes FROM overflow))
     ),
     -- Every room examined all its messages from here on (newer ones included).
     horizon AS (SELECT created_at, id FROM walked WHERE edge ORDER BY created_at DESC, id DESC LIMIT 1),
     hits AS (
       SELECT id, created_at FROM looked_up
       UNION ALL
       (SELECT w.id, w.created_at FROM walked w
        WHERE w.hit AND (NOT EXISTS (SELECT 1 FROM horizon) OR (w.created_at, w.id) >= (SELECT created_at, id FROM horizon))
        ORDER BY w.created_at DESC, w.id DESC LIMIT $6)
     )
     SELECT ${MESSAGE}, ${SENDER},
       EXISTS (SELECT 1 FROM visible_rooms) AS visible,
       ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor)) AS cursor_found
     FROM hits h
     JOIN messages m ON m.id = h.id
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

