import type { Repository } from 'typeorm';
import type { Database } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import type { UserView } from '../users/user.entity';
import type { Message } from './message.entity';
import { SENDER, splitSenders, type MessagesWithSenders, type MessageWithSenderRow } from './message-rows';

/** What mentions serve: the messages that mention a user, and the users a message mentions. */
export function mentionQueries(db: Database, MESSAGE: string) {
  return {
    /**
     * The messages that mention `userId`, in rooms they may see, not deleted,
     * newest first, keyset-paged by a message they were mentioned in: an index
     * range scan on (user_id, created_at, message_id) whatever the depth. Null when
     * `beforeId` names no such message.
     */
    async mentionsOf(this: Repository<Message>, userId: string, companyId: string | null, limit: number, beforeId: string | null): Promise<MessagesWithSenders | null> {
      const rows = await db.on(this.manager).query<MessageWithSenderRow & { cursor_found: boolean }>(
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
    },

    /** The users each message mentions, in order, with those users; one statement. */
    async mentionsOfMessages(this: Repository<Message>, messageIds: readonly string[]): Promise<{ perMessage: Map<string, string[]>; users: UserView[] }> {
      const rows = await db.on(this.manager).query<{ message_id: string; user_id: string; display_name: string | null; company_id: string | null }>(
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
    },
  };
}
