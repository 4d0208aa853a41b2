import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { RateLimitedAction } from '../types';

/** One admitted rate-limited action; rows older than the window are pruned. */
@Entity('rate_limit_log')
export class RateLimitLog {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ name: 'room_id', type: 'uuid' })
  roomId: string;

  @Column({ name: 'event_type', type: 'varchar', length: 20 })
  eventType: RateLimitedAction;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
