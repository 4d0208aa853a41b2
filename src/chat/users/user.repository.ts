import { In, type DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import { visibleMembershipSql } from '../access/visibility';
import { User } from './user.entity';

/** What a viewer may know of a user's presence: only users they share an active room with (and themselves). */
export interface PresenceSeen {
  id: string;
  lastSeenAt: string | null;
}

/**
 * The users table. `findByIds` (every request's and every event's user look-up)
 * and the upsert of a token's claims are hand-tuned statements; the rest is
 * TypeORM's API.
 */
export function userRepository(dataSource: DataSource, db: Database) {
  const USER = columnsOf<User>(dataSource.getMetadata(User)).select('u');
  return dataSource.getRepository(User).extend({
    /** Creates or refreshes the row of a token's subject; unchanged claims write nothing. */
    async upsertFromClaims(id: string, displayName: string | null, companyId: string | null): Promise<User> {
      // TypeORM's upsert cannot say "only when a claim differs": one statement that writes nothing for a known user.
      const [row] = await db.on(this.manager).query<User>(
        `INSERT INTO users AS u (id, display_name, company_id, seen_at) VALUES ($1, $2, $3, now())
         ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
           company_id = EXCLUDED.company_id, seen_at = now(), updated_at = now()
         WHERE u.seen_at IS NULL
            OR u.display_name IS DISTINCT FROM EXCLUDED.display_name
            OR u.company_id IS DISTINCT FROM EXCLUDED.company_id
         RETURNING ${USER}`,
        [id, displayName, companyId],
      );
      return row ?? ((await this.findById(id)) as User);
    },

    /** Makes sure a row exists for each id (a user named before they ever called the API). */
    async ensureKnown(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await this.createQueryBuilder()
        .insert()
        .values([...new Set(ids)].map((id) => ({ id })))
        .orIgnore()
        .execute();
    },

    async findById(id: string): Promise<User | null> {
      return this.findOneBy({ id });
    },

    /** As findByIds, holding the rows (FOR SHARE) until the transaction ends: their claims cannot change meanwhile. */
    async findByIdsForShare(ids: readonly string[]): Promise<User[]> {
      return this.createQueryBuilder('u').where({ id: In([...ids]) }).setLock('pessimistic_read').getMany();
    },

    /**
     * Of `ids`, the users whose presence the viewer may see (themselves, and users
     * with an active membership of a room the viewer sees), with when their last
     * socket closed: one statement per batch (the presence loader's).
     */
    async presenceSeenBy(viewerId: string, viewerCompanyId: string | null, ids: readonly string[]): Promise<PresenceSeen[]> {
      const rows = await db.on(this.manager).query<{ id: string; last_seen_at: string | null }>(
        `SELECT u.id, u.last_seen_at FROM users u
         WHERE u.id = ANY($3::uuid[]) AND (u.id = $1 OR EXISTS (
           SELECT 1 FROM room_members me JOIN rooms r ON r.id = me.room_id
           JOIN room_members them ON them.room_id = me.room_id AND them.user_id = u.id AND them.is_active
           WHERE me.user_id = $1 AND ${visibleMembershipSql('me', 'r', '$2')}))`,
        [viewerId, viewerCompanyId, ids],
      );
      return rows.map((r) => ({ id: r.id, lastSeenAt: r.last_seen_at }));
    },

    /** Records that these users' last sockets closed at `at` (never moving it back: a late write of an older close loses). */
    async markLastSeen(ids: readonly string[], at: string): Promise<void> {
      if (ids.length === 0) return;
      await db.on(this.manager).query(
        `UPDATE users SET last_seen_at = $2 WHERE id = ANY($1::uuid[]) AND (last_seen_at IS NULL OR last_seen_at < $2)`,
        [ids, at],
      );
    },

    /** The users of many ids, in one named statement (the loaders' batch). */
    async findByIds(ids: readonly string[]): Promise<User[]> {
      return db.on(this.manager).query<User>(`SELECT ${USER} FROM users u WHERE u.id = ANY($1::uuid[])`, [ids]);
    },
  });
}

export type UserRepository = ReturnType<typeof userRepository>;
