import type { DataSource } from 'typeorm';
import { columnsOf } from '../db/columns';
import type { Database } from '../db/database';
import { WebhookEvent } from './webhook.entity';

/** An outbox row to hand to the queue. */
export interface UnrelayedEvent {
  id: string;
  roomId: string;
}

/** The outbox's statements (the worker's; the triggers write it). */
export function webhookRepository(dataSource: DataSource, db: Database) {
  const EVENT = columnsOf<WebhookEvent>(dataSource.getMetadata(WebhookEvent)).select('e');
  return {
    /** One outbox row, or null once pruned. */
    async find(id: string): Promise<WebhookEvent | null> {
      const [row] = await db.query<WebhookEvent>(`SELECT ${EVENT} FROM webhook_events e WHERE e.id = $1`, [id]);
      return row ?? null;
    },

    /** The active members of a room other than `exceptUserId` (a message's push audience before sockets are counted). */
    async activeMemberIds(roomId: string, exceptUserId: string | null): Promise<string[]> {
      const rows = await db.query<{ user_id: string }>(
        `SELECT user_id FROM room_members WHERE room_id = $1 AND is_active AND user_id IS DISTINCT FROM $2 ORDER BY joined_at, id`,
        [roomId, exceptUserId],
      );
      return rows.map((r) => r.user_id);
    },

    /** The users a message mentions now, in the order written. */
    async mentionIds(messageId: string): Promise<string[]> {
      const rows = await db.query<{ user_id: string }>(`SELECT user_id FROM message_mentions WHERE message_id = $1 ORDER BY position`, [messageId]);
      return rows.map((r) => r.user_id);
    },

    /** Keeps an event a URL never accepted; a second death of the same event at the same URL keeps the first. */
    async keepDead(eventId: string, url: string, body: string, attempts: number, lastError: string): Promise<void> {
      await db.query(
        `INSERT INTO webhook_dead_events (event_id, url, body, attempts, last_error) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (event_id, url) DO NOTHING`,
        [eventId, url, body, attempts, lastError],
      );
    },

    /** Events not handed to the queue yet (part of the backlog /metrics shows). */
    async unrelayedCount(): Promise<number> {
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_events WHERE NOT relayed`);
      return row.n;
    },

    /**
     * Forgets relayed events older than `seconds` (long delivered, or dead and
     * kept in webhook_dead_events), oldest first, at most `batch` per call: ids
     * grow with time, so the primary key finds them and a send writes no
     * index on created_at.
     */
    async prune(seconds: number, batch = 10_000): Promise<number> {
      const rows = await db.query(
        // The first young row bounds the walk along the key: only old rows are read.
        `WITH young AS (SELECT id FROM webhook_events WHERE created_at >= clock_timestamp() - make_interval(secs => $1) ORDER BY id LIMIT 1)
         DELETE FROM webhook_events WHERE id IN (
           SELECT id FROM webhook_events WHERE relayed AND id < coalesce((SELECT id FROM young), 9223372036854775807) ORDER BY id LIMIT $2)
         RETURNING 1`,
        [seconds, batch],
      );
      return rows.length;
    },

    /**
     * Forgets dead events that died more than `seconds` ago, at most `batch`
     * per call (their bodies are kept for a look by hand, not forever: a
     * receiver gone for good would otherwise grow the table by every event).
     */
    async pruneDead(seconds: number, batch = 10_000): Promise<number> {
      const rows = await db.query(
        `DELETE FROM webhook_dead_events WHERE id IN (
           SELECT id FROM webhook_dead_events WHERE died_at < clock_timestamp() - make_interval(secs => $1) ORDER BY id LIMIT $2)
         RETURNING 1`,
        [seconds, batch],
      );
      return rows.length;
    },
  };
}

export type WebhookRepository = ReturnType<typeof webhookRepository>;
