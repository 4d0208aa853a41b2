import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('message_reactions')
export class Reaction {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'varchar', length: 32 })
  reaction: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
