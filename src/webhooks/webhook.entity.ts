import { Column, Entity, Generated, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { isoTimestamps } from '../db/timestamps';

/** What happened, as BEHAVIOUR.md names it (the `type` of the body receivers get). */
export enum WebhookEventType {
  MESSAGE_CREATED = 'message.created',
  MESSAGE_UPDATED = 'message.updated',
  MESSAGE_DELETED = 'message.deleted',
  REACTION_ADDED = 'reaction.added',
  REACTION_REMOVED = 'reaction.removed',
  MEMBER_ADDED = 'member.added',
  MEMBER_REMOVED = 'member.removed',
  MEMBER_UPDATED = 'member.updated',
}

/**
 * The outbox: one row per change, written by a trigger in the transaction of
 * the change (src/db/migrations/1765600000000-webhooks.ts), only on
 * connections of a server with webhooks configured. `id` comes from a sequence
 * taken at the end of the changing statement, after its locks: of two changes
 * where one could see or waited for the other, the later has the larger id, so
 * id order is commit order per room (see docs/decisions.md).
 */
@Entity('webhook_events')
/** What the relay has still to hand to the delivery queue (pg-boss). */
@Index('webhook_events_unrelayed_idx', ['id'], { where: 'NOT relayed' })
export class WebhookEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  /** The `id` receivers de-duplicate by. */
  @Column('uuid')
  @Generated('uuid')
  eventId!: string;

  @Column('varchar', { length: 32 })
  type!: WebhookEventType;

  @Column('uuid')
  roomId!: string;

  /** The changed row as the trigger saw it (`to_jsonb(NEW)`, or OLD for a removed reaction): src/webhooks/event-body.ts picks the public fields. */
  @Column('jsonb')
  snapshot!: Record<string, unknown>;

  @Column('timestamptz', { default: () => 'clock_timestamp()', transformer: isoTimestamps })
  createdAt!: string;

  /** Handed to the delivery queue (one job per URL). */
  @Column('boolean', { default: false })
  relayed!: boolean;
}

/** An event a URL did not accept within the retry window: kept, with the body last sent and why it failed. */
@Entity('webhook_dead_events')
@Unique('webhook_dead_events_event_url_key', ['eventId', 'url'])
export class WebhookDeadEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  /** The outbox row (webhook_events.id). */
  @Column('bigint')
  eventId!: string;

  @Column('text')
  url!: string;

  @Column('text')
  body!: string;

  @Column('integer')
  attempts!: number;

  @Column('text')
  lastError!: string;

  @Column('timestamptz', { default: () => 'clock_timestamp()', transformer: isoTimestamps })
  diedAt!: string;
}
