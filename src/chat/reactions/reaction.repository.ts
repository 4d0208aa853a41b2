import type { DataSource } from 'typeorm';
import { queryOne, queryRows } from '../../db/sql';
import { User } from '../users/user.entity';
import { toUserFromJson, type UserRow } from '../users/user.repository';
import { Reaction } from './reaction.entity';

interface ReactionRow {
  id: string;
  message_id: string;
  user_id: string;
  reaction: string;
  created_at: Date;
}

function toReaction(row: ReactionRow): Reaction {
  return Object.assign(new Reaction(), {
    id: row.id,
    messageId: row.message_id,
    userId: row.user_id,
    reaction: row.reaction,
    createdAt: row.created_at,
  });
}

/** Reactions of many messages with the users who gave them, read in one statement. */
export interface ReactionsWithUsers {
  reactions: Reaction[];
  users: User[];
}

export class ReactionRepository {
  constructor(private readonly db: DataSource) {}

  /** Idempotent: adding the same reaction twice keeps the first row (`created` false). */
  async addReaction(messageId: string, userId: string, reaction: string): Promise<{ reaction: Reaction; created: boolean }> {
    const inserted = await queryOne<ReactionRow>(
      this.db.manager,
      `INSERT INTO message_reactions (message_id, user_id, reaction) VALUES ($1, $2, $3)
       ON CONFLICT (message_id, user_id, reaction) DO NOTHING RETURNING *`,
      [messageId, userId, reaction],
    );
    if (inserted) return { reaction: toReaction(inserted), created: true };
    const existing = (await this.findByMessageUserReaction(messageId, userId, reaction)) as Reaction;
    return { reaction: existing, created: false };
  }

  async findByMessageUserReaction(messageId: string, userId: string, reaction: string): Promise<Reaction | null> {
    const row = await queryOne<ReactionRow>(
      this.db.manager,
      `SELECT * FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND reaction = $3`,
      [messageId, userId, reaction],
    );
    return row ? toReaction(row) : null;
  }

  async getByMessage(messageId: string): Promise<Reaction[]> {
    return (await this.getByMessages([messageId])).reactions;
  }

  /** In order of creation, so summaries list reactions by first use. */
  async getByMessages(messageIds: readonly string[]): Promise<ReactionsWithUsers> {
    const rows = await queryRows<ReactionRow & { u: UserRow }>(
      this.db.manager,
      `SELECT mr.*, to_jsonb(u) AS u FROM message_reactions mr JOIN users u ON u.id = mr.user_id
       WHERE mr.message_id = ANY($1::uuid[]) ORDER BY mr.created_at, mr.id`,
      [messageIds],
    );
    const users = new Map<string, User>();
    for (const row of rows) {
      users.set(row.u.id, toUserFromJson(row.u));
    }
    return { reactions: rows.map(toReaction), users: [...users.values()] };
  }

  async getReactionCounts(messageId: string): Promise<Map<string, number>> {
    const rows = await queryRows<{ reaction: string; n: number }>(
      this.db.manager,
      `SELECT reaction, count(*)::int AS n FROM message_reactions WHERE message_id = $1
       GROUP BY reaction ORDER BY min(created_at)`,
      [messageId],
    );
    return new Map(rows.map((r) => [r.reaction, r.n]));
  }

  async getUserReactions(messageId: string, reaction: string): Promise<string[]> {
    const rows = await queryRows<{ user_id: string }>(
      this.db.manager,
      `SELECT user_id FROM message_reactions WHERE message_id = $1 AND reaction = $2 ORDER BY created_at`,
      [messageId, reaction],
    );
    return rows.map((r) => r.user_id);
  }

  /** True when a reaction was removed; removing one that is not there is not an error. */
  async removeReaction(messageId: string, userId: string, reaction: string): Promise<boolean> {
    const rows = await queryRows(
      this.db.manager,
      `DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND reaction = $3 RETURNING id`,
      [messageId, userId, reaction],
    );
    return rows.length > 0;
  }
}
