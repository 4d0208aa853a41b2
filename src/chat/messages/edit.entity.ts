import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';
import { Message } from './message.entity';

/** An earlier version of a message: the content an edit replaced, and when. */
@Entity('message_edits')
@Index('message_edits_message_idx', ['messageId', 'replacedAt'])
export class MessageEdit {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  messageId!: string;

  @ManyToOne(() => Message, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'message_id' })
  message?: Message;

  @Column('text')
  content!: string;

  @Column('timestamptz', { default: () => 'clock_timestamp()', transformer: isoTimestamps })
  replacedAt!: string;
}
