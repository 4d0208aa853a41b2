import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';
import { Versioned } from '../changes/versioned.entity';
import { Room } from '../rooms/room.entity';
import { MessageType } from '../types';
import { User } from '../users/user.entity';

@Entity('messages')
@Check('messages_reply_count_not_negative', 'reply_count >= 0')
@Check('messages_pin_complete', '(pinned_at IS NULL) = (pinned_by IS NULL)')
/** A gap-free seq per room, given under the room's row lock. */
@Unique('messages_room_seq_key', ['roomId', 'seq'])
/** One message per (sender, clientId): a concurrent retry loses on it and returns the first. */
@Index('messages_sender_client_key', ['senderId', 'clientId'], { unique: true, where: 'client_id IS NOT NULL' })
/** Keyset history walks (room_id, seq DESC); the partial index serves the default, deleted-free page. */
@Index('messages_room_visible_seq_idx', ['roomId', 'seq'], { where: 'NOT is_deleted' })
@Index('messages_room_created_idx', ['roomId', 'createdAt'])
@Index('messages_room_position_idx', ['roomId', 'versionXid', 'version'])
@Index('messages_thread_idx', ['parentId', 'seq'], { where: 'parent_id IS NOT NULL' })
@Index('messages_room_pins_idx', ['roomId', 'pinnedAt'], { where: 'pinned_at IS NOT NULL' })
/** GIN over each word prefixed with its room's key (an expression index): TypeORM knows neither, the migration owns it. */
@Index('messages_room_words_idx', { synchronize: false })
export class Message extends Versioned {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  roomId!: string;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Room;

  /** Null for SYSTEM messages. */
  @Column('uuid', { nullable: true })
  senderId!: string | null;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'sender_id' })
  sender?: User;

  @Column({ type: 'enum', enum: MessageType, enumName: 'message_type' })
  type!: MessageType;

  /** Wiped when the message is deleted. */
  @Column('text', { nullable: true })
  content!: string | null;

  /** Wiped when the message is deleted. */
  @Column('jsonb', { nullable: true })
  metadata!: Record<string, unknown> | null;

  @Column('varchar', { length: 100, nullable: true })
  clientId!: string | null;

  @Column('integer')
  seq!: number;

  @Column('timestamptz', { default: () => 'clock_timestamp()', transformer: isoTimestamps })
  createdAt!: string;

  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  editedAt!: string | null;

  @Column('boolean', { default: false })
  isDeleted!: boolean;

  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  deletedAt!: string | null;

  /** How many times it changed (1 when sent): two versions of one message compare by it (src/chat/changes/cursor.ts). */
  @Column('integer', { default: 1 })
  revision!: number;

  /** The thread root this message replies to; null for a top-level message. */
  @Column('uuid', { nullable: true })
  parentId!: string | null;

  @ManyToOne(() => Message)
  @JoinColumn({ name: 'parent_id' })
  parent?: Message;

  /** A reply also shown in the room's history. */
  @Column('boolean', { default: false })
  alsoInRoom!: boolean;

  /** Replies that are not deleted (thread roots only). */
  @Column('integer', { default: 0 })
  replyCount!: number;

  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  lastReplyAt!: string | null;

  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  pinnedAt!: string | null;

  @Column('uuid', { name: 'pinned_by', nullable: true })
  pinnedById!: string | null;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'pinned_by' })
  pinnedBy?: User;

  /** What search matches: generated from the content by PostgreSQL (never read back, never written). */
  @Column({
    type: 'tsvector',
    nullable: true,
    select: false,
    insert: false,
    update: false,
    generatedType: 'STORED',
    asExpression: `to_tsvector('simple'::regconfig, chat_search_text(content))`,
  })
  search?: string;
}
