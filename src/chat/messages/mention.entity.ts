import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';
import { User } from '../users/user.entity';
import { Message } from './message.entity';

/** A user a message mentions; the message's room and time are copied in for the mention pages and counts. */
@Entity('message_mentions')
@Index('message_mentions_user_idx', ['userId', 'createdAt', 'messageId'])
@Index('message_mentions_user_room_idx', ['userId', 'roomId', 'createdAt'])
export class Mention {
  @PrimaryColumn('uuid')
  messageId!: string;

  @ManyToOne(() => Message, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'message_id' })
  message?: Message;

  @PrimaryColumn('uuid')
  userId!: string;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column('uuid')
  roomId!: string;

  @Column('timestamptz', { transformer: isoTimestamps })
  createdAt!: string;

  /** Order of the mention in the message's list. */
  @Column('integer')
  position!: number;
}
