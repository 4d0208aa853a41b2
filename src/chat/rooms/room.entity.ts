import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { RoomType } from '../types';

@Entity('rooms')
export class Room {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'enum', enum: RoomType, enumName: 'room_type' })
  type: RoomType;

  @Column({ type: 'varchar', length: 100, nullable: true })
  name: string | null;

  @Column({ name: 'company_id', type: 'uuid', nullable: true })
  companyId: string | null;

  @Column({ name: 'created_by', type: 'uuid', nullable: true })
  createdById: string | null;

  /** DIRECT rooms only: the pair's ids in ascending order, unique together. */
  @Column({ name: 'direct_user_low', type: 'uuid', nullable: true })
  directUserLow: string | null;

  @Column({ name: 'direct_user_high', type: 'uuid', nullable: true })
  directUserHigh: string | null;

  /** The seq of the newest message; the next one gets lastSeq + 1 under this row's lock. */
  @Column({ name: 'last_seq', type: 'integer', default: 0 })
  lastSeq: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'last_message_at', type: 'timestamptz', nullable: true })
  lastMessageAt: Date | null;
}
