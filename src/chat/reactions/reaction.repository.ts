import type { DataSource } from 'typeorm';
import { columnsOf } from '../../db/columns';
import type { Database } from '../../db/database';
import { admitSql, type RateLimit } from '../limits/rate-limit.repository';
import { RateLimitedAction } from '../types';
import { STAMP, stampAfter } from '../changes/versions';
import { Message } from '../messages/message.entity';
import type { UserView } from '../users/user.entity';
import { Reaction } from './reaction.entity';

/** What an add came to. */
export type AddOutcome = { kind: 'added'; message: Message } | { kind: 'given' } | { kind: 'full' } | { kind: 'limited' };

/** Users kept per reaction summary: `ReactionSummary.users(limit)` asks for at most this many. */
export const REACTION_USERS_KEPT = 100;

/** One reaction on a message, summed up: how many, and the first users to give it, in order of reacting. */
export interface ReactionSummary {
  messageId: string;
  reaction: string;
  count: number;
  /** The first REACTION_USERS_KEPT users, in order of reacting. */
  userIds: string[];
}

/** Summaries per message id (absent: no reactions), and the users they name. */
export interface ReactionSummaries {
  perMessage: Map<string, ReactionSummary[]>;
  users: UserView[];
}

export function reactionRepository(dataSource: DataSource, db: Database) {
  const MESSAGE = columnsOf<Message>(dataSource.getMetadata(Message)).select('m');
  return dataSource.getRepository(Reaction).extend({
    /**
     * Locks the message's row until the transaction ends (null when it does not
     * exist): run first in the transaction that adds, so the add's statement,
     * with a snapshot taken after, sees every reaction committed before it and
     * the cap on distinct reactions holds exactly however many add at once.
     */
    async lockForReaction(messageId: string): Promise<{ deleted: boolean } | null> {
      const message = await this.manager
        .createQueryBuilder(Message, 'm')
        .select(['m.id', 'm.isDeleted'])
        .where('m.id = :messageId', { messageId })
        .setLock('pessimistic_write')
        .getOne();
      return message ? { deleted: message.isDeleted } : null;
    },

    /**
     * Adds a reaction in one statement, run after lockForReaction: nothing when
     * the user gave it already (`given`), nor when it would be the message's
     * distinct reaction number `maxKinds + 1` (`full`); otherwise the rate limit
     * admits it (`limited` when not) and the message gets a new position and is
     * returned as it is after.
     */
    async addReaction(messageId: string, roomId: string, userId: string, reaction: string, maxKinds: number, limit: RateLimit): Promise<AddOutcome> {
      const [row] = await db.on(this.manager).query<Message & { given: boolean; no_room: boolean; admitted: boolean }>(
        `WITH state AS (
             SELECT EXISTS (SELECT 1 FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND reaction = $3) AS given,
               NOT EXISTS (SELECT 1 FROM message_reactions WHERE message_id = $1 AND reaction = $3)
                 AND (SELECT count(DISTINCT reaction) FROM message_reactions WHERE message_id = $1) >= $4 AS no_room
           ),
           admitted AS (
             ${admitSql({ user: '$2::uuid', scope: '$7::uuid', action: `'${RateLimitedAction.REACTION}'`, window: '$5', max: '$6' }, 'NOT (SELECT given OR no_room FROM state)')}
           ),
           added AS (
             INSERT INTO message_reactions AS mr (message_id, user_id, reaction) SELECT $1, $2, $3 FROM admitted
             ON CONFLICT (message_id, user_id, reaction) DO NOTHING RETURNING mr.message_id AS id
           ),
           ${stampAfter('added')},
           bumped AS (UPDATE messages m SET ${STAMP}, revision = m.revision + 1 FROM stamped WHERE m.id = stamped.id RETURNING m.*)
         SELECT ${MESSAGE}, state.given, state.no_room, EXISTS (SELECT 1 FROM admitted) AS admitted
         FROM state LEFT JOIN bumped m ON true`,
        [messageId, userId, reaction, maxKinds, limit.windowSeconds, limit.max, roomId],
      );
      if (row.given) return { kind: 'given' };
      if (row.no_room) return { kind: 'full' };
      if (!row.admitted) return { kind: 'limited' };
      const { given: _given, no_room: _noRoom, admitted: _admitted, ...message } = row;
      return { kind: 'added', message: message as Message };
    },

    async findByMessageUserReaction(messageId: string, userId: string, reaction: string): Promise<Reaction | null> {
      return this.findOneBy({ messageId, userId, reaction });
    },

    /** In order of creation. */
    async getByMessage(messageId: string): Promise<Reaction[]> {
      return this.find({ where: { messageId }, order: { createdAt: 'ASC', id: 'ASC' } });
    },

    /**
     * The reactions of many messages summed per message and reaction, in order of
     * first use: each with its count and its first REACTION_USERS_KEPT users (in
     * order of reacting), and those users; one statement.
     */
    async summaries(messageIds: readonly string[]): Promise<ReactionSummaries> {
      const rows = await db.on(this.manager).query<{ message_id: string; reaction: string; n: number; user_ids: string[]; names: (string | null)[]; companies: (string | null)[] }>(
        `SELECT g.message_id, g.reaction, g.n, g.user_ids,
           ARRAY(SELECT u.display_name FROM unnest(g.user_ids) WITH ORDINALITY AS k(id, i) JOIN users u ON u.id = k.id ORDER BY k.i) AS names,
           ARRAY(SELECT u.company_id FROM unnest(g.user_ids) WITH ORDINALITY AS k(id, i) JOIN users u ON u.id = k.id ORDER BY k.i) AS companies
         FROM (
           SELECT message_id, reaction, count(*)::int AS n, (array_agg(user_id ORDER BY created_at, id))[1:${REACTION_USERS_KEPT}] AS user_ids,
             min(created_at) AS first_at, min(id::text) AS first_id
           FROM message_reactions WHERE message_id = ANY($1::uuid[]) GROUP BY message_id, reaction
         ) g
         ORDER BY g.message_id, g.first_at, g.first_id`,
        [messageIds],
      );
      const perMessage = new Map<string, ReactionSummary[]>();
      const users = new Map<string, UserView>();
      for (const row of rows) {
        let list = perMessage.get(row.message_id);
        if (!list) perMessage.set(row.message_id, (list = []));
        list.push({ messageId: row.message_id, reaction: row.reaction, count: row.n, userIds: row.user_ids });
        row.user_ids.forEach((id, i) => users.set(id, { id, displayName: row.names[i], companyId: row.companies[i] }));
      }
      return { perMessage, users: [...users.values()] };
    },

    /** The reactions `userId` gave each of the messages (what `reactedByMe` reads); one statement. */
    async givenBy(userId: string, messageIds: readonly string[]): Promise<Map<string, string[]>> {
      const rows = await db.on(this.manager).query<{ message_id: string; reaction: string }>(
        `SELECT message_id, reaction FROM message_reactions WHERE user_id = $1 AND message_id = ANY($2::uuid[])`,
        [userId, messageIds],
      );
      const given = new Map<string, string[]>();
      for (const row of rows) {
        let list = given.get(row.message_id);
        if (!list) given.set(row.message_id, (list = []));
        list.push(row.reaction);
      }
      return given;
    },

    async getReactionCounts(messageId: string): Promise<Map<string, number>> {
      const summaries = (await this.summaries([messageId])).perMessage.get(messageId) ?? [];
      return new Map(summaries.map((s) => [s.reaction, s.count]));
    },

    async getUserReactions(messageId: string, reaction: string): Promise<string[]> {
      const rows = await this.find({ select: { userId: true }, where: { messageId, reaction }, order: { createdAt: 'ASC', id: 'ASC' } });
      return rows.map((r) => r.userId);
    },

    /**
     * Removes a reaction; its message then has a new position, in the same
     * statement. Returns the message as it is after, null when there was no
     * such reaction (not an error).
     */
    async removeReaction(messageId: string, userId: string, reaction: string): Promise<Message | null> {
      const [message] = await db.on(this.manager).query<Message>(
        `WITH target AS (SELECT id FROM messages WHERE id = $1 FOR UPDATE),
           removed AS (
             DELETE FROM message_reactions mr USING target
             WHERE mr.message_id = target.id AND mr.user_id = $2 AND mr.reaction = $3 RETURNING mr.message_id AS id
           ),
           ${stampAfter('removed')},
           bumped AS (UPDATE messages m SET ${STAMP}, revision = m.revision + 1 FROM stamped WHERE m.id = stamped.id RETURNING m.*)
         SELECT ${MESSAGE} FROM bumped m`,
        [messageId, userId, reaction],
      );
      return message ?? null;
    },
  });
}

export type ReactionRepository = ReturnType<typeof reactionRepository>;

