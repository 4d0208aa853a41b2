import type { Queryable } from '../../db/database';
import { usersTable as t, type User } from './user.table';

const USER = t.select('u');

export class UserRepository {
  constructor(private readonly db: Queryable) {}

  /** Creates or refreshes the row of a token's subject; unchanged claims write nothing. */
  async upsertFromClaims(id: string, displayName: string | null, companyId: string | null): Promise<User> {
    const [row] = await this.db.query<User>(
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
  }

  /** Makes sure a row exists for each id (a user named before they ever called the API). */
  async ensureKnown(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(`INSERT INTO users (id) SELECT DISTINCT unnest($1::uuid[]) ON CONFLICT (id) DO NOTHING`, [ids]);
  }

  async findById(id: string): Promise<User | null> {
    const [user] = await this.findByIds([id]);
    return user ?? null;
  }

  /** As findByIds, holding the rows (FOR SHARE) until the transaction ends: their claims cannot change meanwhile. */
  async findByIdsForShare(ids: readonly string[]): Promise<User[]> {
    return this.db.query<User>(`SELECT ${USER} FROM users u WHERE u.id = ANY($1::uuid[]) FOR SHARE`, [ids]);
  }

  async findByIds(ids: readonly string[]): Promise<User[]> {
    return this.db.query<User>(`SELECT ${USER} FROM users u WHERE u.id = ANY($1::uuid[])`, [ids]);
  }
}
