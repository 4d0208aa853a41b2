import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';
import { RoomType } from '../types';
import { User } from '../users/user.entity';

@Entity('rooms')
@Check('rooms_direct_pair_ordered', `direct_user_low < direct_user_high`)
@Check('rooms_direct_pair_only_direct', `(type = 'DIRECT') = (direct_user_low IS NOT NULL AND direct_user_high IS NOT NULL)`)
@Check('rooms_group_named', `type = 'DIRECT' OR name IS NOT NULL`)
/** One DIRECT room per ordered pair: concurrent creators converge on it (INSERT ... ON CONFLICT). */
@Check('rooms_slow_mode_range', `slow_mode_seconds BETWEEN 0 AND 3600`)
@Index('rooms_direct_pair_key', ['directUserLow', 'directUserHigh'], { unique: true, where: `type = 'DIRECT'` })
@Index('rooms_company_groups_idx', ['companyId', 'createdAt'], { where: `type = 'GROUP'` })
export class Room {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'enum', enum: RoomType, enumName: 'room_type' })
  type!: RoomType;

  @Column('varchar', { length: 100, nullable: true })
  name!: string | null;

  /** The creator's company at creation; who may join or see the room is judged against it. */
  @Column('uuid', { nullable: true })
  companyId!: string | null;

  @Column('uuid', { name: 'created_by', nullable: true })
  createdById!: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by' })
  createdBy?: User;

  /** DIRECT rooms only: the pair's ids in ascending order, unique together. */
  @Column('uuid', { nullable: true })
  directUserLow!: string | null;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'direct_user_low' })
  directLow?: User;

  @Column('uuid', { nullable: true })
  directUserHigh!: string | null;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'direct_user_high' })
  directHigh?: User;

  /** The seq of the newest message; the next one gets lastSeq + 1 under this row's lock. */
  @Column('integer', { default: 0 })
  lastSeq!: number;

  @Column('timestamptz', { default: () => 'now()', transformer: isoTimestamps })
  createdAt!: string;

  @Column('timestamptz', { default: () => 'now()', transformer: isoTimestamps })
  updatedAt!: string;

  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  lastMessageAt!: string | null;

  /** setSlowMode: 0 when off; otherwise a MEMBER may send one message per this many seconds. */
  @Column('integer', { default: 0 })
  slowModeSeconds!: number;
}
