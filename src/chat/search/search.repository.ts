import type { Queryable } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { messagesTable, type Message } from '../messages/message.table';

const MESSAGE = messagesTable.select('m');

export interface SearchPage {
  /** False when `roomId` names a room the user may not see (then nothing is found). */
  visible: boolean;
  /** False when `before` names no message the user may see. */
  cursorFound: boolean;
  hits: Message[];
}

const statements = new Map<string, string>();

/**
 * The search statement: in each of the user's visible rooms (or the one asked)
 * the newest `limit` matches of the query (`websearch_to_tsquery`, the 'simple'
 * configuration the index was built with), then the newest `limit` of those,
 * by (created_at, id), keyset-paged by a message's position. Per room, so the
 * planner can walk a room's newest messages for a common word and read the
 * (room_id, search) index for a rare one; planned with its values every time
 * (a generic plan cannot know which the word is).
 */
function searchSql(withRoom: boolean, withCursor: boolean): string {
  const key = `${withRoom}:${withCursor}`;
  let text = statements.get(key);
  if (text !== undefined) return text;
  text = `WITH q AS (SELECT websearch_to_tsquery('simple', $2) AS q),
     visible_rooms AS (
       SELECT rm.room_id FROM room_members rm JOIN rooms r ON r.id = rm.room_id
       WHERE rm.user_id = $1 AND ${visibleMembershipSql('rm', 'r', '$3')} ${withRoom ? 'AND rm.room_id = $4' : 'AND $4::uuid IS NULL'}
     ),
     cursor AS (SELECT c.created_at, c.id FROM messages c WHERE c.id = $5 AND c.room_id IN (SELECT room_id FROM visible_rooms))
     SELECT ${MESSAGE},
       EXISTS (SELECT 1 FROM visible_rooms) AS visible,
       ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM cursor)) AS cursor_found
     FROM (
       SELECT x.* FROM q CROSS JOIN visible_rooms vr CROSS JOIN LATERAL (
         SELECT * FROM messages x
         WHERE x.room_id = vr.room_id AND x.search @@ q.q AND NOT x.is_deleted
           ${withCursor ? 'AND (x.created_at, x.id) < (SELECT created_at, id FROM cursor)' : ''}
         ORDER BY x.created_at DESC, x.id DESC LIMIT $6
       ) x
       ORDER BY x.created_at DESC, x.id DESC LIMIT $6
     ) m
     RIGHT JOIN (SELECT 1) AS one ON true
     ORDER BY m.created_at DESC, m.id DESC`;
  statements.set(key, text);
  return text;
}

export class SearchRepository {
  constructor(private readonly db: Queryable) {}

  /** Messages matching a web-search query in the rooms `userId` may see (or one of them), newest first. */
  async search(
    userId: string,
    companyId: string | null,
    query: string,
    roomId: string | null,
    limit: number,
    beforeId: string | null,
  ): Promise<SearchPage> {
    const rows = await this.db.query<Message & { visible: boolean; cursor_found: boolean }>(
      searchSql(roomId !== null, beforeId !== null),
      [userId, query, companyId, roomId, beforeId, limit],
      { planEachTime: true },
    );
    const [first] = rows;
    const hits = first.id === null ? [] : rows;
    return { visible: roomId === null || first.visible, cursorFound: first.cursor_found, hits };
  }
}
