import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { isoTimestamps } from '../../db/timestamps';
import { Message } from '../messages/message.entity';
import { Room } from '../rooms/room.entity';
import { User } from '../users/user.entity';

/**
 * A file reserved by createUpload, and once sent, one of a message's
 * attachments. Its bytes live in the attachment store (S3 or local disk)
 * under a key made from the id alone (src/chat/attachments/attachment-store.ts):
 * the filename a client gave is only ever shown, never used as a path.
 */
@Entity('attachments')
@Check('attachments_size_positive', 'size > 0')
@Check('attachments_placed', '(message_id IS NULL) = (position IS NULL)')
/** A message's attachments in the order they were sent. */
@Index('attachments_message_idx', ['messageId', 'position'], { where: 'message_id IS NOT NULL' })
/** What the sweep removes: uploads never sent (by age) and the files of deleted messages. */
@Index('attachments_unsent_idx', ['createdAt'], { where: 'message_id IS NULL' })
@Index('attachments_discarded_idx', ['discardedAt'], { where: 'discarded_at IS NOT NULL' })
export class Attachment {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid')
  roomId!: string;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Room;

  @Column('uuid')
  uploaderId!: string;

  @ManyToOne(() => User)
  @JoinColumn({ name: 'uploader_id' })
  uploader?: User;

  /** Null until a message of its uploader names it (once: never moved to another message). */
  @Column('uuid', { nullable: true })
  messageId!: string | null;

  @ManyToOne(() => Message, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'message_id' })
  message?: Message;

  /** Its place in the message's list (1, 2, ...). */
  @Column('smallint', { nullable: true })
  position!: number | null;

  @Column('varchar', { length: 255 })
  filename!: string;

  @Column('varchar', { length: 255 })
  contentType!: string;

  /** The declared size in bytes; the stored object must have exactly this many to be sent. */
  @Column('integer')
  size!: number;

  /** Pixels, for images whose header told them. */
  @Column('integer', { nullable: true })
  width!: number | null;

  @Column('integer', { nullable: true })
  height!: number | null;

  @Column('timestamptz', { default: () => 'clock_timestamp()', transformer: isoTimestamps })
  createdAt!: string;

  /** When the upload URL stops working. */
  @Column('timestamptz', { transformer: isoTimestamps })
  uploadExpiresAt!: string;

  /** Set when its message is deleted (in the deleting transaction): no URL is given or honoured from then on, and the sweep removes the bytes. */
  @Column('timestamptz', { nullable: true, transformer: isoTimestamps })
  discardedAt!: string | null;
}
