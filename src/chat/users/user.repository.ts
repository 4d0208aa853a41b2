import type { DataSource } from 'typeorm';
import { queryOne, queryRows } from '../../db/sql';
import { User } from './user.entity';

export interface UserRow {
  id: string;
  display_name: string | null;
  company_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export function toUser(row: UserRow): User {
  return Object.assign(new User(), {
    id: row.id,
    displayName: row.display_name,
    companyId: row.company_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/** A users row read through `to_jsonb(u)` in another aggregate's statement: its timestamps arrive as strings. */
export function toUserFromJson(row: UserRow): User {
  return toUser({ ...row, created_at: new Date(row.created_at), updated_at: new Date(row.updated_at) });
}

export class UserRepository {
  constructor(private readonly db: DataSource) {}

  /** Creates or refreshes the row of a token's subject; unchanged claims write nothing. */
  async upsertFromClaims(id: string, displayName: string | null, companyId: string | null): Promise<User> {
    const row = await queryOne<UserRow>(
      this.db.manager,
      `INSERT INTO users (id, display_name, company_id) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
         company_id = EXCLUDED.company_id, updated_at = now()
       WHERE users.display_name IS DISTINCT FROM EXCLUDED.display_name
          OR users.company_id IS DISTINCT FROM EXCLUDED.company_id
       RETURNING *`,
      [id, displayName, companyId],
    );
    return row ? toUser(row) : ((await this.findById(id)) as User);
  }

  /** Makes sure a row exists for each id (a user named before they ever called the API). */
  async ensureKnown(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.manager.query(
      `INSERT INTO users (id) SELECT DISTINCT unnest($1::uuid[]) ON CONFLICT (id) DO NOTHING`,
      [ids],
    );
  }

  async findById(id: string): Promise<User | null> {
    const [user] = await this.findByIds([id]);
    return user ?? null;
  }

  async findByIds(ids: readonly string[]): Promise<User[]> {
    const rows = await queryRows<UserRow>(this.db.manager, `SELECT * FROM users WHERE id = ANY($1::uuid[])`, [ids]);
    return rows.map(toUser);
  }
}
