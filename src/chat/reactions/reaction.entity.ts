import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';
import { Message } from '../messages/message.entity';
import { User } from '../users/user.entity';

@Entity('message_reactions')
/** One reaction per (message, user, reaction): adding twice keeps the first. */
@Unique('message_reactions_message_user_reaction_key', ['messageId', 'userId', 'reaction'])
@Index('message_reactions_message_idx', ['messageId', 'createdAt'])
export class Reaction {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  messageId!: string;

  @ManyToOne(() => Message, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'message_id' })
  message?: Message;

  @Column('uuid')
  userId!: string;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'user_id' })
  user?: User;

  @Column('varchar', { length: 32 })
  reaction!: string;

  @Column('timestamptz', { default: () => 'clock_timestamp()', transformer: isoTimestamps })
  createdAt!: string;
}
