import { Column, Entity, PrimaryColumn } from 'typeorm';
import { isoTimestampArrays } from '../../db/timestamps';
import type { RateLimitedAction } from '../types';

/**
 * The seed's RateLimitLog, one row per (user, scope, action): the times of the
 * admitted actions still inside the window. One row per key lets a single
 * INSERT ... ON CONFLICT DO UPDATE count and admit under the row's lock.
 */
@Entity('rate_limits')
export class RateLimitLog {
  @PrimaryColumn('uuid')
  userId!: string;

  /** The room; the nil UUID for actions outside a room (creating rooms). */
  @PrimaryColumn('uuid')
  scopeId!: string;

  @PrimaryColumn('varchar', { length: 20 })
  action!: RateLimitedAction;

  @Column('timestamptz', { array: true, transformer: isoTimestampArrays })
  admittedAt!: string[];
}
