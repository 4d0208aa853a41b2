import type { Queryable } from '../../db/database';
import { stampAfter } from '../changes/versions';
import type { UserView } from '../users/user.table';
import { reactionsTable as t, type Reaction } from './reaction.table';

const REACTION = t.select('mr');

/** One reaction on a message, summed up: how many, and who, in order of first use. */
export interface ReactionSummary {
  reaction: string;
  count: number;
  userIds: string[];
}

/** Summaries per message id (absent: no reactions), and the users they name. */
export interface ReactionSummaries {
  perMessage: Map<string, ReactionSummary[]>;
  users: UserView[];
}

export class ReactionRepository {
  constructor(private readonly db: Queryable) {}

  /**
   * Idempotent: adding the same reaction twice keeps the first row (`created`
   * false). A new reaction gives its message a new version, in the same
   * statement: the message row is locked first, then the version lock.
   */
  async addReaction(messageId: string, userId: string, reaction: string): Promise<{ reaction: Reaction; created: boolean }> {
    const [inserted] = await this.db.query<Reaction>(
      `WITH target AS (SELECT id FROM messages WHERE id = $1 FOR UPDATE),
         added AS (
           INSERT INTO message_reactions AS mr (message_id, user_id, reaction) SELECT id, $2, $3 FROM target
           ON CONFLICT (message_id, user_id, reaction) DO NOTHING RETURNING ${REACTION}
         ),
         changed AS (SELECT "messageId" AS id FROM added),
         ${stampAfter('changed')},
         -- A data-modifying CTE runs to completion whether or not the statement reads it.
         bumped AS (UPDATE messages m SET version = stamped.version FROM stamped WHERE m.id = stamped.id)
       SELECT * FROM added`,
      [messageId, userId, reaction],
    );
    if (inserted) return { reaction: inserted, created: true };
    const existing = (await this.findByMessageUserReaction(messageId, userId, reaction)) as Reaction;
    return { reaction: existing, created: false };
  }

  async findByMessageUserReaction(messageId: string, userId: string, reaction: string): Promise<Reaction | null> {
    const [row] = await this.db.query<Reaction>(
      `SELECT ${REACTION} FROM message_reactions mr WHERE mr.message_id = $1 AND mr.user_id = $2 AND mr.reaction = $3`,
      [messageId, userId, reaction],
    );
    return row ?? null;
  }

  /** In order of creation. */
  async getByMessage(messageId: string): Promise<Reaction[]> {
    return this.db.query<Reaction>(
      `SELECT ${REACTION} FROM message_reactions mr WHERE mr.message_id = $1 ORDER BY mr.created_at, mr.id`,
      [messageId],
    );
  }

  /**
   * The reactions of many messages summed per message and reaction, in order of
   * first use, with the users in order of reacting, and those users; one statement.
   */
  async summaries(messageIds: readonly string[]): Promise<ReactionSummaries> {
    const rows = await this.db.query<{ message_id: string; reaction: string; user_ids: string[]; names: (string | null)[]; companies: (string | null)[] }>(
      `SELECT mr.message_id, mr.reaction,
         array_agg(mr.user_id ORDER BY mr.created_at, mr.id) AS user_ids,
         array_agg(u.display_name ORDER BY mr.created_at, mr.id) AS names,
         array_agg(u.company_id ORDER BY mr.created_at, mr.id) AS companies
       FROM message_reactions mr JOIN users u ON u.id = mr.user_id
       WHERE mr.message_id = ANY($1::uuid[])
       GROUP BY mr.message_id, mr.reaction ORDER BY mr.message_id, min(mr.created_at), min(mr.id::text)`,
      [messageIds],
    );
    const perMessage = new Map<string, ReactionSummary[]>();
    const users = new Map<string, UserView>();
    for (const row of rows) {
      let list = perMessage.get(row.message_id);
      if (!list) perMessage.set(row.message_id, (list = []));
      list.push({ reaction: row.reaction, count: row.user_ids.length, userIds: row.user_ids });
      row.user_ids.forEach((id, i) => users.set(id, { id, displayName: row.names[i], companyId: row.companies[i] }));
    }
    return { perMessage, users: [...users.values()] };
  }

  async getReactionCounts(messageId: string): Promise<Map<string, number>> {
    const summaries = (await this.summaries([messageId])).perMessage.get(messageId) ?? [];
    return new Map(summaries.map((s) => [s.reaction, s.count]));
  }

  async getUserReactions(messageId: string, reaction: string): Promise<string[]> {
    const rows = await this.db.query<{ user_id: string }>(
      `SELECT user_id FROM message_reactions WHERE message_id = $1 AND reaction = $2 ORDER BY created_at, id`,
      [messageId, reaction],
    );
    return rows.map((r) => r.user_id);
  }

  /**
   * True when a reaction was removed (its message then has a new version, in
   * the same statement); removing one that is not there is not an error.
   */
  async removeReaction(messageId: string, userId: string, reaction: string): Promise<boolean> {
    const rows = await this.db.query(
      `WITH target AS (SELECT id FROM messages WHERE id = $1 FOR UPDATE),
         removed AS (
           DELETE FROM message_reactions mr USING target
           WHERE mr.message_id = target.id AND mr.user_id = $2 AND mr.reaction = $3 RETURNING mr.message_id AS id
         ),
         ${stampAfter('removed')},
         bumped AS (UPDATE messages m SET version = stamped.version FROM stamped WHERE m.id = stamped.id)
       SELECT id FROM removed`,
      [messageId, userId, reaction],
    );
    return rows.length > 0;
  }
}
